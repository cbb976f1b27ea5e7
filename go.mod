module github.com/rnnkit/rnnkit

go 1.25.0

require (
	github.com/nlpodyssey/gopickle v0.2.0
	github.com/tidwall/gjson v1.20.3
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.3.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
