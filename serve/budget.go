package serve

import (
	"context"
	"sync"
)

// budget bounds the bytes of request bodies and gRPC messages held at
// once (Config.MaxBodyBuffer). REST requests take their share or are
// refused (tryTake); gRPC calls, whose message sizes are not known before
// they are read, wait for a full MaxBodyBytes share (take) before reading
// and give back what the message did not use.
type budget struct {
	mu      sync.Mutex
	used    int64
	max     int64
	waiting int           // calls in take waiting for bytes
	freed   chan struct{} // closed and replaced when bytes are given back to waiters
}

func newBudget(max int64) *budget {
	return &budget{max: max, freed: make(chan struct{})}
}

// tryTake takes n bytes if they are free and reports whether it did.
func (b *budget) tryTake(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

// take waits until n bytes are free and takes them, or returns ctx's
// error.
func (b *budget) take(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.waiting++
		b.mu.Unlock()
		var err error
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-freed:
		}
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// give returns n bytes.
func (b *budget) give(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if b.waiting > 0 {
		close(b.freed)
		b.freed = make(chan struct{})
	}
	b.mu.Unlock()
}

// load returns the bytes taken.
func (b *budget) load() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
