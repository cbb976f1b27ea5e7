//go:build !race

package keras_test

const raceEnabled = false

const raceSlowdown = 1
