package hypercore

import (
	"context"
	"sync"
)

// replication is what the core asks of its replicator (replicate.go wires
// the replicator package's Replicator into it). The notifications only
// queue work and may be called with the core's locks held; the others
// block and are called without them.
type replication interface {
	onAppend(start, end uint64)
	onTruncate(newLength, oldLength uint64)
	onClear(start, end uint64)
	// waitBlock returns once block index is stored, asking peers for it.
	waitBlock(ctx context.Context, index uint64) error
	// update asks peers for a longer length (Replicator.Update).
	update(ctx context.Context) (bool, error)
	// download returns once blocks [start, end) are stored.
	download(ctx context.Context, start, end uint64) error
	close() error
}

// replication returns the core's replicator, or nil when none is
// attached.
func (st *state) replication() replication {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.repl
}

// fetching is a request for a block to the replicator, running on its
// own goroutine while Get watches the core.
type fetching struct {
	err chan error // receives the replicator's answer; nil without one
	wg  *sync.WaitGroup
}

// wait waits for the fetching goroutine to end (after its context is
// cancelled).
func (f fetching) wait() {
	if f.wg != nil {
		f.wg.Wait()
	}
}

// fetch asks the replicator, if one is attached, for block index until
// ctx ends.
func (st *state) fetch(ctx context.Context, index uint64) fetching {
	r := st.replication()
	if r == nil {
		return fetching{}
	}
	f := fetching{err: make(chan error, 1), wg: new(sync.WaitGroup)}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.err <- r.waitBlock(ctx, index)
	}()
	return f
}

// update asks the replicator for a longer length; without one there is
// nobody to ask.
func (st *state) update(ctx context.Context, opts *UpdateOptions) (bool, error) {
	r := st.replication()
	if r == nil {
		return false, nil
	}
	return r.update(ctx)
}

// download fetches [start, end) through the replicator, or, without one,
// waits for the blocks to appear locally (a writer appending them).
func (st *state) download(ctx context.Context, start, end uint64) error {
	if r := st.replication(); r != nil {
		return r.download(ctx, start, end)
	}
	for {
		st.mu.RLock()
		changed := st.changed
		done := !st.bits.HasUnset(start, end)
		st.mu.RUnlock()
		if done {
			return nil
		}
		if err := st.checkOpen(); err != nil {
			return err
		}
		if err := waitChanged(ctx, changed, nil); err != nil {
			return err
		}
	}
}
