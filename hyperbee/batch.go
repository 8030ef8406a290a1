package hyperbee

import (
	"context"
	"iter"
	"sync"
)

// Batch groups writes into one append (JS bee.batch()). Its writes are
// applied to an in-memory copy of the tree as they are made, are visible
// to the batch's own reads, and reach the core only on Flush, as one
// append of one block per write: exactly the blocks JS's batch flush
// appends for the same writes.
//
// The first write takes the bee's write lock and the batch holds it until
// Flush or Close, so other writers wait: always end a batch with Flush or
// Close. (As in JS, the header of an empty core is appended at the first
// write, not at Flush.)
//
// A Batch is safe for concurrent use; its operations run one at a time.
// After Flush it can be used again; after Close every call fails with
// ErrBatchDone.
type Batch struct {
	bee *Bee

	mu     sync.Mutex
	s      *session
	locked bool
	closed bool
}

// Batch starts a batch of writes on b.
func (b *Bee) Batch() *Batch {
	return &Batch{bee: b, s: b.newBatchSession()}
}

func (b *Bee) newBatchSession() *session {
	return &session{bee: b, sh: b.sh, entries: make(map[uint64]*entry), batch: true, fixed: b.checkout, fork: coreFork(b.sh.core)}
}

// write runs a write with the lock held.
func (bt *Batch) write(ctx context.Context, fn func(s *session) (bool, error)) (bool, error) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if bt.closed {
		return false, ErrBatchDone
	}
	if err := bt.bee.checkWrite(); err != nil {
		return false, err
	}
	if !bt.locked {
		if err := bt.bee.sh.acquire(ctx); err != nil {
			return false, err
		}
		bt.locked = true
	}
	return fn(bt.s)
}

// Put sets key to value in the batch.
func (bt *Batch) Put(ctx context.Context, key, value []byte) error {
	_, err := bt.PutCAS(ctx, key, value, nil)
	return err
}

// PutCAS is Put with a compare-and-swap check, as [Bee.PutCAS]; the
// existing entry may be one written earlier in the batch.
func (bt *Batch) PutCAS(ctx context.Context, key, value []byte, cas CASFunc) (bool, error) {
	if value == nil {
		value = []byte{}
	}
	return bt.write(ctx, func(s *session) (bool, error) {
		return s.put(ctx, bt.bee.full(key), value, cas)
	})
}

// Del deletes key in the batch.
func (bt *Batch) Del(ctx context.Context, key []byte) error {
	_, err := bt.DelCAS(ctx, key, nil)
	return err
}

// DelCAS is Del with a compare-and-swap check, as [Bee.DelCAS].
func (bt *Batch) DelCAS(ctx context.Context, key []byte, cas CASFunc) (bool, error) {
	return bt.write(ctx, func(s *session) (bool, error) {
		return s.del(ctx, bt.bee.full(key), cas)
	})
}

// Get returns the entry of key as the batch sees it, pending writes
// included.
func (bt *Batch) Get(ctx context.Context, key []byte) (Entry, error) {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if bt.closed {
		return Entry{}, ErrBatchDone
	}
	return bt.s.getEntry(ctx, key)
}

// Version returns the version the bee will have once the batch is
// flushed.
func (bt *Batch) Version() uint64 {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	return bt.s.version()
}

// Len returns the number of pending writes.
func (bt *Batch) Len() int {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	return bt.s.pending
}

// Range iterates over the batch's view of the tree, pending writes
// included, as [Bee.Range] does. The batch must not be written while the
// iteration runs.
func (bt *Batch) Range(ctx context.Context, r Range) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		bt.mu.Lock()
		if bt.closed {
			bt.mu.Unlock()
			yield(Entry{}, ErrBatchDone)
			return
		}
		s := bt.s
		bt.mu.Unlock()
		runRange(ctx, s, bt.bee, r, yield)
	}
}

// Flush appends the pending writes in one append and releases the write
// lock. With nothing pending it only releases the lock.
func (bt *Batch) Flush(ctx context.Context) error {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if bt.closed {
		return ErrBatchDone
	}
	if !bt.locked {
		return nil
	}
	sh := bt.bee.sh
	s := bt.s
	bt.s = bt.bee.newBatchSession()
	defer func() {
		bt.locked = false
		sh.release()
	}()
	if s.pending == 0 {
		return nil
	}
	base := sh.core.Length()
	blocks, err := s.toBlocks(base)
	if err != nil {
		return err
	}
	return sh.appendBlocks(ctx, base, blocks...)
}

// Close discards the pending writes and releases the write lock. It is
// idempotent.
func (bt *Batch) Close() error {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if bt.closed {
		return nil
	}
	bt.closed = true
	if bt.locked {
		bt.locked = false
		bt.bee.sh.release()
	}
	return nil
}
