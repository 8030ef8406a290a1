package hypercore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/storage"
)

// Store is one database holding any number of cores: the storage a
// corestore is built on (DESIGN.md, Storage: one Pebble database per
// store). [Open] is a Store with one core; corestore opens a Store and
// calls [Store.Open] for each of its cores, so that cores of one corestore
// share one database and one commit log.
//
// A core open in a Store is opened once: every [Store.Open] of the same
// core while it is open returns a new session of the same shared state
// (as [Core.Session] does), so appends through one are seen by all.
//
// The Store also keeps what corestore needs besides cores: the primary key
// from which named cores' key pairs are derived, and aliases from
// (namespace, name) to a core. [Store.Purge] and [Core.Purge] delete
// cores from it.
//
// A Store is safe for concurrent use.
type Store struct {
	db  *storage.DB
	log *slog.Logger

	// mu guards the fields below, and the session counts of the open
	// cores (state.sessions).
	mu     sync.Mutex
	cores  map[[32]byte]*state // open cores by discovery key
	closed bool
	// closing holds the cores being closed (the last session's release)
	// or purged (purge.go), by discovery key; each channel is closed once
	// that is over. Opens and purges of these cores wait for it (JS
	// corestore's preopen), so that none loads a core whose last change
	// is still being committed, or that is being deleted.
	closing map[[32]byte]chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// OpenStore opens the store in dir, creating it if it does not exist.
func OpenStore(dir string, opts *StoreOptions) (*Store, error) {
	if opts == nil {
		opts = &StoreOptions{}
	}
	db, err := storage.Open(dir, &storage.Options{
		FS:           opts.FS,
		Logger:       opts.Logger,
		NoSync:       opts.NoSync,
		MemTableSize: opts.MemTableSize,
		CacheSize:    opts.CacheSize,
	})
	if err != nil {
		return nil, fmt.Errorf("hypercore: %w", err)
	}
	return &Store{
		db:      db,
		log:     logger(opts.Logger),
		cores:   make(map[[32]byte]*state),
		closing: make(map[[32]byte]chan struct{}),
	}, nil
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Close closes every core still open in the store (their sessions return
// [ErrClosed] from then on) and the database. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		states := make([]*state, 0, len(s.cores))
		for _, st := range s.cores {
			states = append(states, st)
		}
		clear(s.cores)
		s.mu.Unlock()
		var errs []error
		for _, st := range states {
			errs = append(errs, st.shutdown())
		}
		errs = append(errs, s.db.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// identity is who a core is, as resolved from Options.
type identity struct {
	key      [32]byte
	manifest *Manifest        // nil while unknown
	keyPair  *hcrypto.KeyPair // nil: not given
}

// resolve works out the core Options name. ok is false when they name
// none (no key, key pair or manifest).
func resolve(opts *Options) (id identity, ok bool, err error) {
	switch {
	case opts.Manifest != nil:
		if err := opts.Manifest.Validate(); err != nil {
			return id, false, err
		}
		id.manifest = opts.Manifest
		id.key = opts.Manifest.Hash()
		if opts.KeyPair != nil {
			if !isSigner(opts.Manifest, opts.KeyPair.PublicKey) {
				return id, false, fmt.Errorf("%w: the key pair is not a signer of the manifest", ErrKeyMismatch)
			}
		}
	case opts.KeyPair != nil:
		id.manifest = DefaultManifest(opts.KeyPair.PublicKey)
		id.key = id.manifest.Hash()
	case opts.Key != (Key{}):
		id.key = opts.Key
		return id, true, nil
	default:
		return id, false, nil
	}
	if opts.KeyPair != nil {
		if !opts.KeyPair.Validate() {
			return id, false, fmt.Errorf("%w: the secret key does not match the public key", ErrKeyMismatch)
		}
		kp := *opts.KeyPair
		id.keyPair = &kp
	}
	if opts.Key != (Key{}) && opts.Key != Key(id.key) {
		return id, false, fmt.Errorf("%w: key %s, manifest gives %s", ErrKeyMismatch, opts.Key, Key(id.key))
	}
	return id, true, nil
}

func isSigner(m *Manifest, pk hcrypto.PublicKey) bool {
	for _, s := range m.Signers {
		if s.PublicKey == pk {
			return true
		}
	}
	return false
}

// Open opens the core opts name in the store, creating it if it is not
// stored, and returns a session of it. Without a key, key pair or
// manifest in opts it creates a new core with a fresh key pair. The
// database options of opts (NoSync, FS) are ignored: the store's apply.
func (s *Store) Open(ctx context.Context, opts *Options) (*Core, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id, ok, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if !ok {
		kp, err := hcrypto.GenerateKeyPair(nil)
		if err != nil {
			return nil, err
		}
		if id, _, err = resolve(&Options{KeyPair: &kp}); err != nil {
			return nil, err
		}
	}
	return s.open(ctx, id, opts, true)
}

// OpenDiscoveryKey opens the stored core with discovery key dk and
// returns a session of it, or [ErrNotFound] when the store does not hold
// it. Corestore answers a peer's channel open with it: a store serves the
// cores it has and no others (PROTOCOLS.md §5.8).
func (s *Store) OpenDiscoveryKey(ctx context.Context, dk Key, opts *Options) (*Core, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c, err := s.session(dk); c != nil || err != nil {
		return c, err
	}
	sc, err := s.db.FindCore(dk)
	if err != nil {
		return nil, notFound(err)
	}
	h, err := sc.Header()
	if err != nil {
		return nil, notFound(err)
	}
	o := *opts
	o.Key = Key(h.Key)
	id, _, err := resolve(&o)
	if err != nil {
		return nil, err
	}
	return s.open(ctx, id, opts, false)
}

// Has reports whether the store holds the core with discovery key dk.
func (s *Store) Has(dk Key) (bool, error) {
	_, err := s.db.FindCore(dk)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, notFound(err)
}

// DiscoveryKeys yields the discovery keys of every core in the store, in
// byte order.
func (s *Store) DiscoveryKeys() iter.Seq2[Key, error] {
	return func(yield func(Key, error) bool) {
		for c, err := range s.db.Cores() {
			if err != nil {
				yield(Key{}, notFound(err))
				return
			}
			if !yield(Key(c.DiscoveryKey()), nil) {
				return
			}
		}
	}
}

// PrimaryKey returns the store's primary key, from which corestore derives
// the key pairs of named cores; ok is false when none was set.
func (s *Store) PrimaryKey() (key [32]byte, ok bool, err error) {
	key, err = s.db.PrimaryKey()
	if errors.Is(err, storage.ErrNotFound) {
		return key, false, nil
	}
	return key, err == nil, notFound(err)
}

// SetPrimaryKey stores the primary key. It can be set once: setting the
// same key again does nothing, a different one fails.
func (s *Store) SetPrimaryKey(key [32]byte) error {
	return notFound(s.db.SetPrimaryKey(key))
}

// SetAlias makes (namespace, name) name the core with discovery key dk,
// which must be stored (corestore's named cores).
func (s *Store) SetAlias(namespace [32]byte, name string, dk Key) error {
	sc, err := s.db.FindCore(dk)
	if err != nil {
		return notFound(err)
	}
	b := s.db.NewBatch()
	b.PutAlias(namespace, name, sc.ID())
	return notFound(b.Commit())
}

// Alias returns the discovery key of the core (namespace, name) names, or
// [ErrNotFound].
func (s *Store) Alias(namespace [32]byte, name string) (Key, error) {
	sc, err := s.db.FindAlias(namespace, name)
	if err != nil {
		return Key{}, notFound(err)
	}
	return Key(sc.DiscoveryKey()), nil
}

// session returns a new session of the open core dk, or nil when it is
// not open (or being closed or purged).
func (s *Store) session(dk [32]byte) (*Core, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.closing[dk] != nil {
		return nil, nil
	}
	st := s.cores[dk]
	if st == nil {
		return nil, nil
	}
	st.sessions++
	return newSession(st, nil), nil
}

// open returns a session of the core id names, loading it (and creating it
// when create is set and it is not stored). When the core is being
// closed or purged, it waits for that to end first (or for ctx).
func (s *Store) open(ctx context.Context, id identity, opts *Options, create bool) (*Core, error) {
	dk := hcrypto.DiscoveryKey(id.key)
	// Loading happens under s.mu: opens are rare, and this keeps two opens
	// of the same core from loading it twice.
	if err := s.lockSettled(ctx, dk); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if st := s.cores[dk]; st != nil {
		if err := st.adopt(id, opts); err != nil {
			return nil, err
		}
		st.sessions++
		return newSession(st, nil), nil
	}
	st, err := loadState(s, id, opts, create)
	if err != nil {
		return nil, err
	}
	s.cores[dk] = st
	st.sessions = 1
	return newSession(st, nil), nil
}

// release drops one session of st, and closes st when it was the last.
// While st shuts down, opens of the core wait (see Store.closing).
func (s *Store) release(st *state) error {
	s.mu.Lock()
	st.sessions--
	last := st.sessions == 0
	var done chan struct{}
	if last && s.cores[st.dk] == st {
		delete(s.cores, st.dk)
		done = make(chan struct{})
		s.closing[st.dk] = done
	}
	s.mu.Unlock()
	if !last {
		return nil
	}
	err := st.shutdown()
	if done != nil {
		s.mu.Lock()
		delete(s.closing, st.dk)
		s.mu.Unlock()
		close(done)
	}
	if st.ownsStore {
		err = errors.Join(err, s.Close())
	}
	return err
}
