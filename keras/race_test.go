//go:build race

package keras_test

// raceEnabled: the race detector makes sync.Pool (the matrix kernels'
// packing buffers) drop items at random, so allocation counts mean little.
const raceEnabled = true

// raceSlowdown: the race detector slows code 5-20x, so time bounds in
// tests scale by it.
const raceSlowdown = 20
