//go:build !race

package runtime_test

// raceEnabled reports a -race build, where sync.Pool drops items at random
// (so a warm Predict may allocate a workspace).
const raceEnabled = false
