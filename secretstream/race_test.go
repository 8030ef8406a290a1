//go:build race

package secretstream

const raceEnabled = true
