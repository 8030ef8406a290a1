package hypercore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/storage"
)

// snapshot is the fixed view a snapshot session reads: the core's tree
// (fork, length, roots, signature) at the moment it was made, over a
// storage snapshot that keeps the blocks and nodes of that moment however
// the core changes afterwards (JS snapshot sessions and their
// snapshotCompatLength, lib/session-state.js).
//
// A block the core did not hold when the snapshot was made (it arrived
// later from a peer) is read from the live core, but only below compat:
// the length up to which the live core still agrees with the snapshot.
// compat starts at the snapshot's length and drops to the new length when
// the core is truncated below it; past it the snapshot's blocks are no
// longer anywhere, and Get returns ErrSnapshotNotAvailable (JS
// SNAPSHOT_NOT_AVAILABLE).
type snapshot struct {
	st         *state
	db         *storage.Snapshot
	sc         *storage.Core // the core as of the snapshot
	tree       *merkle.Tree  // over sc; read-only
	fork       uint64
	length     uint64
	byteLength uint64 // without padding

	compat uint64 // guarded by st.mu

	refs      atomic.Int64 // sessions using it
	closeOnce sync.Once
	closeErr  error
}

// Snapshot returns a snapshot session: a session whose length, fork and
// blocks stay those of the core now, while the core keeps changing. It
// stays readable after later appends; after a truncation below its length
// the blocks past the new length remain readable only if they were stored
// locally when the snapshot was made. A snapshot of a snapshot is the same
// snapshot. Close it like any session.
func (c *Core) Snapshot() (*Core, error) {
	if c.snap != nil {
		return c.Session()
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	st := c.st
	s := st.store
	// Count the session first: the store's lock comes before wmu.
	s.mu.Lock()
	if st.closed.Load() {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	st.sessions++
	s.mu.Unlock()

	snap, err := st.newSnapshot()
	if err != nil {
		return nil, errors.Join(err, s.release(st))
	}
	return newSession(st, snap), nil
}

// newSnapshot makes the snapshot of the core as it is now. Holding wmu
// makes the storage snapshot and the tree state agree: no change is
// between its commit and its move of the tree.
func (st *state) newSnapshot() (*snapshot, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if st.closed.Load() {
		return nil, ErrClosed
	}
	db, err := st.store.db.NewSnapshot()
	if err != nil {
		return nil, notFound(err)
	}
	sc := db.Core(st.sc)
	fork, length, byteLength := st.infoLocked() // wmu held: no writer
	tree, err := merkle.Open(sc, length, fork, st.tree.Signature())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("hypercore: snapshot: %w", err)
	}
	tree.SetPrologue(st.tree.Prologue())
	snap := &snapshot{st: st, db: db, sc: sc, tree: tree, fork: fork, length: length, byteLength: byteLength, compat: length}
	snap.refs.Store(1)
	st.mu.Lock()
	st.snaps[snap] = struct{}{}
	st.mu.Unlock()
	return snap, nil
}

// ref adds a session to the snapshot; it fails once the snapshot closed.
func (s *snapshot) ref() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a session, and closes the snapshot with the last.
func (s *snapshot) release() error {
	if s.refs.Add(-1) > 0 {
		return nil
	}
	return s.close()
}

// close releases the storage snapshot. It is idempotent; the core's
// shutdown calls it for snapshots still open.
func (s *snapshot) close() error {
	s.closeOnce.Do(func() {
		s.st.mu.Lock()
		if s.st.snaps != nil {
			delete(s.st.snaps, s)
		}
		s.st.mu.Unlock()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// appendBlock appends block index to dst as the snapshot sees it: from
// the snapshot's storage, else from the live core below compat. ok is
// false when the block is nowhere yet (a peer may still provide it).
func (s *snapshot) appendBlock(dst []byte, index uint64) (b []byte, ok bool, err error) {
	if index >= s.length {
		return dst, false, fmt.Errorf("%w: block %d of a snapshot of length %d", ErrSnapshotNotAvailable, index, s.length)
	}
	b, err = s.sc.AppendBlock(dst, index)
	if err == nil {
		return b, true, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return dst, false, notFound(err)
	}
	st := s.st
	st.mu.RLock()
	compat, has := s.compat, st.bits.Get(index)
	st.mu.RUnlock()
	if index >= compat {
		return dst, false, fmt.Errorf("%w: block %d, the core was truncated to %d", ErrSnapshotNotAvailable, index, compat)
	}
	if !has {
		return dst, false, nil
	}
	b, err = st.sc.AppendBlock(dst, index)
	if errors.Is(err, storage.ErrNotFound) {
		return dst, false, nil
	}
	if err != nil {
		return dst, false, notFound(err)
	}
	// The live core may have been truncated while we read.
	if err := s.checkCompat(index); err != nil {
		return dst, false, err
	}
	return b, true, nil
}

// checkCompat fails when block index is past the snapshot's compat length.
func (s *snapshot) checkCompat(index uint64) error {
	s.st.mu.RLock()
	compat := s.compat
	s.st.mu.RUnlock()
	if index >= compat {
		return fmt.Errorf("%w: block %d, the core was truncated to %d", ErrSnapshotNotAvailable, index, compat)
	}
	return nil
}

// has reports whether block index is readable from the snapshot now.
func (s *snapshot) has(index uint64) (bool, error) {
	if index >= s.length {
		return false, nil
	}
	ok, err := s.sc.HasBlock(index)
	if err != nil || ok {
		return ok, notFound(err)
	}
	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	return index < s.compat && st.bits.Get(index), nil
}
