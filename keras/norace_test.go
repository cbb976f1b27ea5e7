//go:build !race

package keras_test

const raceSlowdown = 1
