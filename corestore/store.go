package corestore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
)

// Errors of the store. Errors about cores keep hypercore's sentinels, so
// errors.Is(err, hypercore.ErrNotFound) and friends work on them as well.
var (
	// ErrClosed is returned by calls on a closed store or namespace, and
	// by sessions of cores whose store was closed. It is
	// hypercore.ErrClosed.
	ErrClosed = hypercore.ErrClosed

	// ErrNotFound is returned by Get for a [DiscoveryKey] the store does
	// not hold, and for any reference with [GetOptions.NoCreate] when the
	// core is not stored (JS STORAGE_EMPTY). It is hypercore.ErrNotFound.
	ErrNotFound = hypercore.ErrNotFound

	// ErrPrimaryKeyMismatch is returned by Open when Options.PrimaryKey
	// differs from the primary key already stored in the directory (JS
	// "Another corestore is stored here").
	ErrPrimaryKeyMismatch = errors.New("corestore: another corestore is stored here (primary key differs)")
)

// Options configures [Open]. A nil *Options is valid and means the
// defaults.
type Options struct {
	// PrimaryKey is the key every named core's key pair is derived from.
	// On the first Open of a directory it is stored; nil then means 32
	// random bytes (JS's default). On later opens nil means the stored
	// key, and a different key fails with ErrPrimaryKeyMismatch. JS asks
	// for unsafe: true along with a primary key, because whoever knows it
	// can write every named core of the store; Go takes the caller's word.
	PrimaryKey *[32]byte

	// ManifestVersion is the version of the manifests of named cores the
	// store creates: 0 means 1, JS's default (JS manifestVersion option).
	// Version 2 gives different core keys than version 1 for the same
	// name.
	ManifestVersion int

	// NoSync lets changes return before they are synced to disk (see
	// hypercore.Options.NoSync). The default (false) syncs every change.
	NoSync bool

	// FS is the file system the database lives on; nil means the disk.
	// Tests and examples use vfs.NewMem().
	FS vfs.FS

	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger

	// MemTableSize and CacheSize size the database's write buffer and
	// block cache (see hypercore.StoreOptions); 0 means
	// hypercore.DefaultMemTableSize and hypercore.DefaultCacheSize.
	MemTableSize uint64
	CacheSize    int64
}

// Store is a corestore: many hypercores in one database, the key pairs
// of named cores derived from one primary key, and replication of every
// core over one stream per peer ([Store.Replicate]). It matches the
// Corestore class of corestore 7.12.5.
//
// [Open] returns a store at the root namespace; [Store.Namespace] returns
// stores that share its database, cores and replication streams but
// derive named cores in another namespace, as JS store.namespace(name)
// sessions do.
//
// A Store is safe for concurrent use.
type Store struct {
	r               *root
	ns              Namespace
	manifestVersion int
	isRoot          bool // the store Open returned

	// closed tells whether this namespace was closed (the root's own
	// state is r.closed); guarded by r.mu. The sessions it handed out are
	// in r.sessions with this store as their owner.
	closed bool
}

// root is what every namespace of one store shares: the database, the
// primary key, the handed-out sessions and the replication streams.
type root struct {
	hs         *hypercore.Store
	primaryKey [32]byte
	log        *slog.Logger

	// mu guards the fields below. It is never held while a core is opened
	// or closed, nor while a mux is created, attached to or closed.
	mu     sync.Mutex
	closed bool
	// sessions are the sessions Get handed out, each with the store
	// (namespace) that made it; closed sessions are swept out now and
	// then (sweepLocked). The cores they are sessions of are the "open"
	// cores that a new replication stream carries from the start.
	sessions  map[*hypercore.Core]*Store
	sweepNext int                       // sweep when len(sessions) reaches this
	streams   map[*Replication]struct{} // every stream not yet ended
	wg        sync.WaitGroup            // the goroutines of the streams

	closeOnce sync.Once
	closeErr  error
}

// Open opens the corestore in dir, creating it (and dir) if it does not
// exist. The store keeps its primary key in its database (see
// [Options.PrimaryKey]). Close the store when done with it.
func Open(ctx context.Context, dir string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkManifestVersion(opts.ManifestVersion); err != nil {
		return nil, err
	}
	hs, err := hypercore.OpenStore(dir, &hypercore.StoreOptions{
		NoSync:       opts.NoSync,
		FS:           opts.FS,
		Logger:       opts.Logger,
		MemTableSize: opts.MemTableSize,
		CacheSize:    opts.CacheSize,
	})
	if err != nil {
		return nil, err
	}
	pk, err := primaryKey(hs, opts.PrimaryKey)
	if err != nil {
		return nil, errors.Join(err, hs.Close())
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &root{
		hs:         hs,
		primaryKey: pk,
		log:        log,
		sessions:   make(map[*hypercore.Core]*Store),
		sweepNext:  sweepMin,
		streams:    make(map[*Replication]struct{}),
	}
	return &Store{r: r, manifestVersion: manifestVersion(opts.ManifestVersion), isRoot: true}, nil
}

// primaryKey returns the primary key stored in hs, storing want (or a
// random key) when there is none (JS _getOrSetSeed).
func primaryKey(hs *hypercore.Store, want *[32]byte) ([32]byte, error) {
	stored, ok, err := hs.PrimaryKey()
	if err != nil {
		return stored, fmt.Errorf("corestore: reading the primary key: %w", err)
	}
	if ok {
		if want != nil && *want != stored {
			return stored, ErrPrimaryKeyMismatch
		}
		return stored, nil
	}
	var pk [32]byte
	if want != nil {
		pk = *want
	} else if _, err := rand.Read(pk[:]); err != nil {
		return pk, err
	}
	if err := hs.SetPrimaryKey(pk); err != nil {
		return pk, fmt.Errorf("corestore: storing the primary key: %w", err)
	}
	return pk, nil
}

func checkManifestVersion(v int) error {
	if v < 0 || v > hypercore.MaxManifestVersion {
		return fmt.Errorf("corestore: manifest version %d: %w", v, hypercore.ErrInvalidManifest)
	}
	return nil
}

// manifestVersion applies JS's `manifestVersion || 1`.
func manifestVersion(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// Namespace returns a store in the namespace called name inside s's (JS
// store.namespace(name)): it shares s's database, cores and replication
// streams, and derives the key pairs of named cores in
// s.NamespaceKey().Child(name). Closing it closes the sessions it handed
// out, nothing else; closing the root store closes every namespace.
// The namespace of a closed store is closed.
func (s *Store) Namespace(name string) *Store {
	ns := &Store{r: s.r, ns: s.ns.Child(name), manifestVersion: s.manifestVersion}
	s.r.mu.Lock()
	ns.closed = s.closed || s.r.closed
	s.r.mu.Unlock()
	return ns
}

// NamespaceKey returns the namespace s derives named cores in: the zero
// Namespace for a store returned by Open (JS store.ns).
func (s *Store) NamespaceKey() Namespace { return s.ns }

// CreateKeyPair returns the key pair of the core called name in s's
// namespace (JS store.createKeyPair(name)): the key pair Get(Name(name))
// writes with.
func (s *Store) CreateKeyPair(name string) hcrypto.KeyPair {
	return DeriveKeyPair(s.r.primaryKey, s.ns, name)
}

// DiscoveryKeys yields the discovery key of every core stored in the
// database, whatever its namespace, in byte order (JS store.list()).
func (s *Store) DiscoveryKeys() iter.Seq2[hypercore.Key, error] {
	return s.r.hs.DiscoveryKeys()
}

// Has reports whether the store holds the core with discovery key dk.
func (s *Store) Has(dk hypercore.Key) (bool, error) {
	return s.r.hs.Has(dk)
}

// Close closes s. For a namespace it closes the sessions Get handed out
// through it. For the root store (the one Open returned) it ends every
// replication stream (closing their connections, see [Store.Replicate]),
// closes every session of every namespace, and closes the database,
// waiting for every goroutine the store started. Close is idempotent.
func (s *Store) Close() error {
	if s.isRoot {
		return s.r.close()
	}
	r := s.r
	r.mu.Lock()
	if s.closed {
		r.mu.Unlock()
		return nil
	}
	s.closed = true
	var mine []*hypercore.Core
	for c, owner := range r.sessions {
		if owner == s {
			mine = append(mine, c)
			delete(r.sessions, c)
		}
	}
	r.mu.Unlock()
	return closeAll(mine)
}

func closeAll(cores []*hypercore.Core) error {
	var errs []error
	for _, c := range cores {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// close closes everything: streams first (so no core is opened on
// demand any more), then sessions, then the database.
func (r *root) close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		streams := make([]*Replication, 0, len(r.streams))
		for st := range r.streams {
			streams = append(streams, st)
		}
		sessions := make([]*hypercore.Core, 0, len(r.sessions))
		for c := range r.sessions {
			sessions = append(sessions, c)
		}
		clear(r.sessions)
		r.mu.Unlock()

		for _, st := range streams {
			st.Close()
		}
		r.wg.Wait()
		errs := []error{closeAll(sessions)}
		errs = append(errs, r.hs.Close())
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}
