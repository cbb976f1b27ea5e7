module github.com/rnnkit/rnnkit

go 1.25

require (
	github.com/dgryski/go-farm v0.0.0-20240924180020-3414d57e47da
	github.com/nlpodyssey/gopickle v0.2.0
	github.com/tidwall/gjson v1.20.3
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.3.0 // indirect
)
