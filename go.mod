module github.com/rnnkit/rnnkit

go 1.24
