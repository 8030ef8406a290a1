//go:build race

package storage

// raceEnabled shortens the crash tests under the race detector, which
// makes them about ten times slower.
const raceEnabled = true
