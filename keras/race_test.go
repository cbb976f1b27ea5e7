//go:build race

package keras_test

// raceSlowdown: the race detector slows code 5-20x, so time bounds in
// tests scale by raceSlowdown.
const raceSlowdown = 20
