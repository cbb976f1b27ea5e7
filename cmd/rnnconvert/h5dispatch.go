package main

import "io"

// runH5Command runs "rnnconvert h5", the HDF5 dump implemented in
// h5cmd.go.
func runH5Command(args []string, stdout, stderr io.Writer) int {
	return runH5(args, stdout, stderr)
}
