//go:build race

package keras_test

// raceEnabled: the race detector makes sync.Pool (the matrix kernels'
// packing buffers) drop items at random, so allocation counts mean little.
const raceEnabled = true
