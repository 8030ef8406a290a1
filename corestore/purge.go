package corestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hypercore"
)

// Purge deletes the core ref refers to from the store, whether it is open
// or not, as a purge of a session of it does (JS core.purge() on a
// session from store.get): every session of the core closes (they return
// ErrClosed from then on), its channel closes on every replication stream,
// which otherwise runs on, and its blocks, tree, header with its key pair,
// user data and name are removed in one synced batch (see
// hypercore.Core.Purge). A later Get of ref finds nothing local: a [Key]
// gives a new empty core, a [Name] a new empty core with the same derived
// key pair, and a [DiscoveryKey] ErrNotFound. Purge returns ErrNotFound if
// the store does not hold the core.
//
// Calling Purge on a session from Get (hypercore.Core.Purge) does the
// same; the store notices the closed sessions the next time it needs them.
func (s *Store) Purge(ctx context.Context, ref Ref) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.check(); err != nil {
		return err
	}
	dk, err := s.discoveryKey(ref)
	if err != nil {
		return err
	}
	if err := s.r.hs.Purge(ctx, dk); err != nil {
		return fmt.Errorf("corestore: purge %s: %w", ref, err)
	}
	s.r.forget(dk)
	return nil
}

// discoveryKey returns the discovery key of the core ref refers to, as
// Get would open it: a name by its alias when it has one, else by its
// derived key pair at the store's manifest version.
func (s *Store) discoveryKey(ref Ref) (hypercore.Key, error) {
	switch ref.kind {
	case refName:
		if ref.name == "" {
			return hypercore.Key{}, errors.New("corestore: empty name")
		}
		dk, err := s.r.hs.Alias(s.ns, ref.name)
		if err == nil {
			return dk, nil
		}
		if !errors.Is(err, hypercore.ErrNotFound) {
			return hypercore.Key{}, err
		}
		return hypercore.Key(namedCoreAuth(s.r.primaryKey, s.ns, ref.name, s.manifestVersion).discoveryKey), nil
	case refKey:
		return hypercore.DiscoveryKey(ref.key), nil
	case refDiscoveryKey:
		return ref.key, nil
	}
	return hypercore.Key{}, errors.New("corestore: the zero Ref names no core")
}

// forget drops the store's closed sessions of core dk, a purged core: the
// handed-out ones from the sessions map, the streams' own from each
// stream, so that a later Get of the key is attached to the streams
// afresh.
func (r *root) forget(dk hypercore.Key) {
	r.mu.Lock()
	for c := range r.sessions {
		if c.DiscoveryKey() == dk && sessionClosed(c) {
			delete(r.sessions, c)
		}
	}
	streams := make([]*Replication, 0, len(r.streams))
	for rep := range r.streams {
		streams = append(streams, rep)
	}
	r.mu.Unlock()
	for _, rep := range streams {
		rep.mu.Lock()
		stale := rep.dropClosedLocked(dk)
		rep.mu.Unlock()
		closeStale(stale)
	}
}

// dropClosedLocked forgets the stream's session of core dk when that
// session is closed, which happens when the core is purged under it (the
// stream's sessions are otherwise closed only when the stream ends), and
// returns it for the caller to close once rep.mu is released; else it
// returns nil. The caller holds rep.mu.
func (rep *Replication) dropClosedLocked(dk hypercore.Key) *hypercore.Core {
	c := rep.cores[dk]
	if c == nil || !sessionClosed(c) {
		return nil
	}
	delete(rep.cores, dk)
	return c
}

// closeStale releases a session dropClosedLocked returned (its core is
// closed already; this drops the session's count).
func closeStale(c *hypercore.Core) {
	if c != nil {
		c.Close()
	}
}
