//go:build race

package convert

// raceSlowdown: the race detector slows code 5-20x, so time bounds in
// tests scale by it.
const raceSlowdown = 20
