// Package pool runs the chunks of a job at once on long-lived goroutines:
// chunk 0 in the caller's goroutine, the others in workers started once,
// so that handing out a job starts no goroutine and allocates nothing.
//
// The jobs it is made for are short (a training step hands out 10 to 30 of
// 10–400 µs each; a 256-row Predict of a small model takes 100–200 µs), so
// the hand-off must cost far less than waking a parked thread, which
// measured 12–18 µs per job on one machine and made 2 threads slower than
// 1 for both. Workers therefore spin for up to SpinFor after each job
// before they park, and the caller spins the same way while it waits for
// them.
package pool
