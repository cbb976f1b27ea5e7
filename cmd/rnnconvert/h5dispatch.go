package main

import (
	"fmt"
	"io"
)

// runH5Command runs "rnnconvert h5", the HDF5 dump of h5cmd.go.
func runH5Command(args []string, stdout, stderr io.Writer) int {
	_, _ = args, stdout
	fmt.Fprintln(stderr, "rnnconvert: h5: not built into this version")
	return 1
}
