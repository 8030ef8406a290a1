package hypercore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gopear/gopear/hcrypto"
)

// Core is a session of a hypercore: a handle on a core's shared state.
// [Open] and [Store.Open] return one; [Core.Session] and [Core.Snapshot]
// make more. All sessions of a core see the same data, and the core stays
// open until its last session is closed (JS sessions, index.js).
//
// A live session follows the core as it grows and is truncated. A snapshot
// session ([Core.Snapshot]) keeps the length, fork and blocks the core had
// when it was made.
//
// A Core is safe for concurrent use.
type Core struct {
	st   *state
	snap *snapshot // nil for a live session

	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed by Close

	watchMu  sync.Mutex
	watchers map[*watcher]struct{}
	watchWG  sync.WaitGroup
}

func newSession(st *state, snap *snapshot) *Core {
	return &Core{st: st, snap: snap, done: make(chan struct{})}
}

// Open opens the hypercore stored in dir, creating dir and the core as
// needed: a database holding one core (see [Store] for many). With nil
// options it reopens the core the directory holds, or creates a new
// writable core with a random key pair when it holds none; see [Options]
// for the other cases. Closing the returned core (its last session)
// closes the database.
func Open(dir string, opts *Options) (*Core, error) {
	if opts == nil {
		opts = &Options{}
	}
	s, err := OpenStore(dir, &StoreOptions{
		NoSync:       opts.NoSync,
		FS:           opts.FS,
		Logger:       opts.Logger,
		MemTableSize: opts.MemTableSize,
		CacheSize:    opts.CacheSize,
	})
	if err != nil {
		return nil, err
	}
	c, err := openOnly(s, opts)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	c.st.ownsStore = true
	return c, nil
}

// openOnly opens the core opts name in s, or the only core s holds.
func openOnly(s *Store, opts *Options) (*Core, error) {
	if _, ok, err := resolve(opts); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return s.Open(context.Background(), opts)
	}
	var only *Key
	for dk, err := range s.DiscoveryKeys() {
		if err != nil {
			return nil, err
		}
		if only != nil {
			return nil, fmt.Errorf("hypercore: the store holds several cores; name one with Options.Key")
		}
		only = &dk
	}
	if only == nil {
		return s.Open(context.Background(), opts)
	}
	return s.OpenDiscoveryKey(context.Background(), *only, opts)
}

// Session returns a new session of the same core. A session of a snapshot
// is a snapshot with the same state.
func (c *Core) Session() (*Core, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	s := c.st.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.st.closed.Load() {
		return nil, ErrClosed
	}
	if c.snap != nil && !c.snap.ref() {
		return nil, ErrClosed
	}
	c.st.sessions++
	return newSession(c.st, c.snap), nil
}

// Close closes the session: its watchers stop (Close waits for a callback
// in progress, so it must not be called from one) and, for the last session
// of the core, the core closes (and, for a core from [Open], its
// database). Blocked calls on the session return [ErrClosed]. Close is
// idempotent.
func (c *Core) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		c.stopWatchers()
		var errs []error
		if c.snap != nil {
			errs = append(errs, c.snap.release())
		}
		errs = append(errs, c.st.store.release(c.st))
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// check returns ErrClosed for a closed session or core.
func (c *Core) check() error {
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	return c.st.checkOpen()
}

// Key returns the core key: the hash of its manifest.
func (c *Core) Key() Key { return Key(c.st.key) }

// DiscoveryKey returns the discovery key, which names the core on the wire
// and to the DHT.
func (c *Core) DiscoveryKey() Key { return Key(c.st.dk) }

// Length returns the number of blocks: the signed length for a live
// session, the length at the time of the snapshot for a snapshot.
func (c *Core) Length() uint64 {
	if c.snap != nil {
		return c.snap.length
	}
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return c.st.tree.Length()
}

// ByteLength returns the total size of the blocks in bytes, without the
// padding of block encryption (JS byteLength).
func (c *Core) ByteLength() uint64 {
	if c.snap != nil {
		return c.snap.byteLength
	}
	_, _, bl := c.st.info()
	return bl
}

// Fork returns the fork id, which every truncation increments.
func (c *Core) Fork() uint64 {
	if c.snap != nil {
		return c.snap.fork
	}
	f, _, _ := c.st.info()
	return f
}

// Info is a consistent view of a session's core at one moment.
type Info struct {
	Key, DiscoveryKey Key
	// Fork, Length and ByteLength are as the methods of the same names.
	Fork, Length, ByteLength uint64
	// ContiguousLength is the number of blocks from the start all stored
	// locally.
	ContiguousLength uint64
	// TreeHash is the hash of the tree's roots at Length: what the
	// signature signs.
	TreeHash [32]byte
	// Signature is the signature of the tree at Length (multisig-wrapped
	// for manifest version 1 cores); nil for an empty core.
	Signature []byte
	// Writable is as [Core.Writable]; Padding is the bytes of block
	// encryption padding per block (0 or [EncryptionPadding]).
	Writable bool
	Padding  uint64
}

// Info returns the state of the core as one consistent view.
func (c *Core) Info() (Info, error) {
	if err := c.check(); err != nil {
		return Info{}, err
	}
	st := c.st
	in := Info{Key: Key(st.key), DiscoveryKey: Key(st.dk)}
	st.mu.RLock()
	defer st.mu.RUnlock()
	in.Padding = st.paddingLocked()
	in.ContiguousLength = min(st.bits.ContiguousLength(), st.tree.Length())
	if c.snap != nil {
		s := c.snap
		in.Fork, in.Length, in.ByteLength = s.fork, s.length, s.byteLength
		in.TreeHash, in.Signature = s.tree.Hash(), s.tree.Signature()
		in.ContiguousLength = min(in.ContiguousLength, s.length)
		return in, nil
	}
	in.Fork, in.Length, in.ByteLength = st.infoLocked()
	in.TreeHash = st.tree.Hash()
	in.Signature = append([]byte(nil), st.tree.Signature()...)
	in.Writable = st.keyPair != nil && st.verifier != nil
	return in, nil
}

// Writable reports whether this session can append: the core's key pair is
// known and the session is not a snapshot.
func (c *Core) Writable() bool {
	if c.snap != nil {
		return false
	}
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return c.st.keyPair != nil && c.st.verifier != nil
}

// Manifest returns the core's manifest, or nil while it is unknown (a core
// opened from its key learns it from a peer). The caller must not modify
// it.
func (c *Core) Manifest() *Manifest {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return c.st.manifest
}

// Encrypted reports whether the core encrypts its blocks.
func (c *Core) Encrypted() bool {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return c.st.enc != nil
}

// KeyPair returns the writer's key pair, or nil when the core is not
// writable here.
func (c *Core) KeyPair() *hcrypto.KeyPair {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	if c.st.keyPair == nil {
		return nil
	}
	kp := *c.st.keyPair
	return &kp
}
