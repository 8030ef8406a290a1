//go:build !race

package secretstream

const raceEnabled = false
