//go:build race

package layers

// raceEnabled: the race detector makes sync.Pool (the matrix kernels'
// packing buffers) drop items at random, so allocation counts are not
// meaningful under it.
const raceEnabled = true
