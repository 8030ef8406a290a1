package hypercore

import (
	"context"
	"errors"
	"fmt"
)

// Purge closes every session of the core c is a session of (snapshots
// included) and deletes the core from its store: blocks, tree nodes,
// bitfield, head and signature, user data, the header with the key pair
// and encryption key, and the names corestore gave it (JS core.purge(),
// which closes all sessions and then deletes the core from
// hypercore-storage). Sessions of the core return [ErrClosed] from then
// on, blocked calls on them return, and the core's replication channels
// are closed, so peers see the channel end as when the core closes. A
// later open of the same key finds nothing: [Store.Open] creates a new,
// empty core, and [Store.OpenDiscoveryKey] returns [ErrNotFound].
//
// The deletion is one synced storage batch: after a crash the core is
// either still stored in full or gone. For a core from [Open], the
// database is closed too (JS closes the storage of a core it owns).
//
// Purge returns [ErrClosed] if c, or its core, is closed already. ctx
// bounds only the wait for another close or purge of the same core to
// end; once the core has begun to close, Purge finishes. Once the core is
// closed, c is closed too, even if the deletion then fails.
func (c *Core) Purge(ctx context.Context) error { return Purge(ctx, c) }

// Purge purges the cores of the given sessions together, as
// [Core.Purge] does one: every session of each core is closed, and the
// cores that share a [Store] are deleted in one storage batch, so that a
// crash keeps all of them or none (a hyperdrive purges its db core and
// its blobs core this way). Sessions of the same core may be given more
// than once. Cores of different stores are purged store by store, in the
// order of the sessions, stopping at the first store that fails. The
// given sessions whose cores were closed are closed when Purge returns.
func Purge(ctx context.Context, sessions ...*Core) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var stores []*Store
	want := make(map[*Store]map[[32]byte]*state)
	for _, c := range sessions {
		if err := c.check(); err != nil {
			return fmt.Errorf("hypercore: purge: %w", err)
		}
		s := c.st.store
		if want[s] == nil {
			want[s] = make(map[[32]byte]*state)
			stores = append(stores, s)
		}
		want[s][c.st.dk] = c.st
	}
	var errs []error
	for _, s := range stores {
		if err := s.purge(ctx, want[s]); err != nil {
			errs = append(errs, err)
			break
		}
	}
	for _, c := range sessions {
		if c.st.closed.Load() {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// Purge deletes the cores with the discovery keys dks from the store, in
// one storage batch, whether they are open or not. Open ones are closed
// first, as [Core.Purge] closes them. If one of them is not stored, Purge
// returns [ErrNotFound] and changes nothing.
func (s *Store) Purge(ctx context.Context, dks ...Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	want := make(map[[32]byte]*state, len(dks))
	for _, dk := range dks {
		want[dk] = nil
	}
	return s.purge(ctx, want)
}

// purge deletes the cores of want (discovery key to the state expected
// open, or nil for any). It works in three steps:
//
//  1. Under s.mu, it waits for closes and other purges of the same cores
//     to end, checks that each expected state is still the open one (else
//     the core was closed meanwhile: ErrClosed) and that every core is
//     stored (else ErrNotFound, before anything is closed), marks the
//     cores as closing, so that opens of them wait (lockSettled), and
//     takes the open ones out of the map of open cores.
//  2. It closes the open ones: shutdown stops replication (closing the
//     peers' channels), snapshots, watchers and waiters, and drain waits
//     for a change in progress. No change of the cores can be committed
//     after this, since every change checks closed under wmu.
//  3. It deletes the cores in one batch (storage.DB.DeleteCores) and
//     lifts the marks.
func (s *Store) purge(ctx context.Context, want map[[32]byte]*state) error {
	if len(want) == 0 {
		return nil
	}
	dks := make([][32]byte, 0, len(want))
	for dk := range want {
		dks = append(dks, dk)
	}

	// Step 1.
	if err := s.lockSettled(ctx, dks...); err != nil {
		return err
	}
	for dk, st := range want {
		if st != nil && s.cores[dk] != st {
			s.mu.Unlock()
			return fmt.Errorf("hypercore: purge: %w", ErrClosed)
		}
		// A storage read under s.mu, as opens do: nothing can create or
		// delete the core meanwhile.
		if ok, err := s.Has(dk); err != nil || !ok {
			s.mu.Unlock()
			if err == nil {
				err = fmt.Errorf("hypercore: purge: core %s: %w", Key(dk), ErrNotFound)
			}
			return err
		}
	}
	done := make(chan struct{})
	var states []*state
	for _, dk := range dks {
		s.closing[dk] = done
		if st := s.cores[dk]; st != nil {
			delete(s.cores, dk)
			states = append(states, st)
		}
	}
	s.mu.Unlock()

	// Step 2.
	var errs []error
	ownsStore := false
	for _, st := range states {
		errs = append(errs, st.shutdown())
		st.drain()
		ownsStore = ownsStore || st.ownsStore
	}

	// Step 3.
	if err := s.db.DeleteCores(dks...); err != nil {
		errs = append(errs, fmt.Errorf("hypercore: purge: %w", notFound(err)))
	}
	s.mu.Lock()
	for _, dk := range dks {
		delete(s.closing, dk)
	}
	s.mu.Unlock()
	close(done)
	if ownsStore {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// drain waits for a change of st in progress to be committed or dropped.
// st is closed: every change checks that under wmu, so none starts after
// this. (shutdown waits too, but returns at once when a concurrent close
// of the last session runs it.)
func (st *state) drain() {
	st.wmu.Lock()
	st.wmu.Unlock() // an empty critical section: waiting is the point
}

// lockSettled locks s.mu once none of the cores dks is being closed or
// purged, and returns with it held; or returns ErrClosed (the store is
// closed) or ctx's error, without it.
func (s *Store) lockSettled(ctx context.Context, dks ...[32]byte) error {
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		var busy chan struct{}
		for _, dk := range dks {
			if busy = s.closing[dk]; busy != nil {
				break
			}
		}
		if busy == nil {
			return nil
		}
		s.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
}
