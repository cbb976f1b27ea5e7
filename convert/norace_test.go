//go:build !race

package convert

const raceSlowdown = 1
