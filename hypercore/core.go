package hypercore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/storage"
	"github.com/gopear/gopear/z32"
)

// Key is a 32-byte core key or discovery key. It prints, and marshals as
// text, in z-base-32 (52 characters), as Pear links do; parsing accepts
// z-base-32, hex or a pear:// link ([ParseKey]).
type Key [32]byte

// String returns the z-base-32 form of k.
func (k Key) String() string { return z32.Encode(k) }

// MarshalText returns the z-base-32 form of k.
func (k Key) MarshalText() ([]byte, error) { return []byte(z32.Encode(k)), nil }

// UnmarshalText parses a key in any form [ParseKey] accepts.
func (k *Key) UnmarshalText(text []byte) error {
	key, err := z32.Decode(string(text))
	if err != nil {
		return err
	}
	*k = key
	return nil
}

// ParseKey parses a key given as z-base-32, hex or a pear:// link
// (hypercore-id-encoding decode).
func ParseKey(s string) (Key, error) {
	k, err := z32.Decode(s)
	return Key(k), err
}

// DiscoveryKey returns the discovery key of a core key: the hash that
// names the core on the wire and to the DHT without revealing its key.
func DiscoveryKey(key Key) Key { return Key(hcrypto.DiscoveryKey(key)) }

// state is the shared state of one open core: every session (live or
// snapshot) of the core points to it. It follows JS lib/core.js (the core)
// and the default lib/session-state.js (its trusted tree).
//
// # Locking
//
// wmu serialises changes: appends, truncations, clears, user data and data
// applied from peers. A change builds its storage batch while holding
// only wmu, commits it, and then takes mu to move the in-memory state
// (tree, bitfield) to the committed one. So readers, which hold mu for
// reading, never wait for a disk sync, and always see a state that is on
// disk. The holder of wmu may read the fields mu guards without mu: no one
// else changes them.
type state struct {
	store     *Store
	ownsStore bool // the store is closed with this core (hypercore.Open)
	sc        *storage.Core
	id        storage.CoreID
	key, dk   [32]byte
	log       *slog.Logger

	closed atomic.Bool

	// sessions counts the open sessions; guarded by store.mu.
	sessions int

	wmu     sync.Mutex
	pageBuf []byte // scratch for bitfield pages; guarded by wmu

	// mu guards the fields below (see Locking).
	mu       sync.RWMutex
	header   storage.Header
	tree     *merkle.Tree
	nodes    *nodeCache // the tree's NodeReader; see nodeCache
	bits     *bitfield.Bitfield
	manifest *Manifest // nil while unknown
	verifier *verifier // nil while the manifest is unknown
	keyPair  *hcrypto.KeyPair
	encKey   []byte                 // the encryption key, nil for an unencrypted core
	enc      *BlockEncryption       // derived from encKey
	snaps    map[*snapshot]struct{} // open snapshots, whose compat length truncations lower
	// changed is closed, and replaced, whenever the core's length or its
	// stored blocks change, or the core closes: waiters select on it.
	changed chan struct{}

	events hub
	repl   replication // nil until replication is attached
	ra     readAhead   // block reads of proofs for peers
}

// loadState opens (or, with create, creates) the core id names in s.
func loadState(s *Store, id identity, opts *Options, create bool) (*state, error) {
	dk := hcrypto.DiscoveryKey(id.key)
	sc, err := s.db.FindCore(dk)
	var hdr *storage.Header
	switch {
	case err == nil:
		if hdr, err = sc.Header(); err != nil {
			return nil, fmt.Errorf("hypercore: reading core header: %w", notFound(err))
		}
		if hdr.Key != id.key {
			return nil, fmt.Errorf("%w: stored key %x does not match", ErrCorrupt, hdr.Key[:8])
		}
	case errors.Is(err, storage.ErrNotFound) && create:
		hdr = &storage.Header{Key: id.key, DiscoveryKey: dk}
		if id.manifest != nil {
			if hdr.Manifest, err = id.manifest.MarshalBinary(); err != nil {
				return nil, err
			}
		}
		if id.keyPair != nil {
			hdr.SecretKey = bytes.Clone(id.keyPair.SecretKey[:])
		}
		if opts.EncryptionKey != nil {
			hdr.EncryptionKey = bytes.Clone(opts.EncryptionKey)
		}
		if sc, err = s.db.CreateCore(hdr); err != nil {
			return nil, fmt.Errorf("hypercore: creating core: %w", notFound(err))
		}
	default:
		return nil, notFound(err)
	}

	st := &state{
		store:   s,
		sc:      sc,
		id:      sc.ID(),
		key:     id.key,
		dk:      dk,
		log:     s.log,
		header:  *hdr,
		bits:    bitfield.New(),
		snaps:   make(map[*snapshot]struct{}),
		changed: make(chan struct{}),
		pageBuf: make([]byte, 0, bitfield.BytesPerPage),
	}
	if opts.Logger != nil {
		st.log = opts.Logger
	}
	st.log = st.log.With("core", Key(id.key).String())

	var m *Manifest
	if hdr.Manifest != nil {
		if m, err = ParseManifest(hdr.Manifest); err != nil {
			return nil, fmt.Errorf("%w: stored manifest: %w", ErrCorrupt, err)
		}
		if !manifestMatches(id.key, m) {
			return nil, fmt.Errorf("%w: stored manifest does not hash to the key", ErrCorrupt)
		}
	}

	// The tree and the bitfield, as the last committed batch left them.
	head, err := sc.Head()
	empty := true
	for _, err := range sc.NodesEndingIn(0, math.MaxUint64) {
		if err != nil {
			return nil, fmt.Errorf("hypercore: reading tree nodes: %w", err)
		}
		empty = false
		break
	}
	st.nodes = newNodeCache(sc, empty)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		st.tree = merkle.New(st.nodes)
	case err != nil:
		return nil, fmt.Errorf("hypercore: reading head: %w", err)
	default:
		if st.tree, err = merkle.Open(st.nodes, head.Length, head.Fork, head.Signature); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		if st.tree.Hash() != head.RootHash || st.tree.ByteLength() != head.ByteLength {
			return nil, fmt.Errorf("%w: stored roots do not match the head", ErrCorrupt)
		}
	}
	for p, err := range sc.BitfieldPages() {
		if err != nil {
			return nil, fmt.Errorf("hypercore: reading bitfield: %w", err)
		}
		if err := st.bits.ImportPage(p.N, p.Page); err != nil {
			return nil, fmt.Errorf("%w: bitfield page %d: %w", ErrCorrupt, p.N, err)
		}
	}

	if m != nil {
		st.setManifestLocked(m)
	}
	encKey := opts.EncryptionKey
	if encKey == nil {
		encKey = hdr.EncryptionKey
	}
	if encKey != nil {
		st.encKey = bytes.Clone(encKey)
		st.setEncryptionLocked()
	}
	if err := st.adopt(id, opts); err != nil {
		return nil, err
	}
	if st.keyPair == nil && m != nil && len(hdr.SecretKey) == hcrypto.SecretKeySize {
		kp := hcrypto.KeyPair{SecretKey: hcrypto.SecretKey(hdr.SecretKey)}
		kp.PublicKey = kp.SecretKey.PublicKey()
		if isSigner(m, kp.PublicKey) && kp.Validate() {
			st.keyPair = &kp
		}
	}
	return st, nil
}

// manifestMatches reports whether m is the manifest of the core with key:
// its hash is the key, or it is the compat manifest of the key.
func manifestMatches(key [32]byte, m *Manifest) bool {
	return m.Hash() == key || isCompat(key, m)
}

// adopt takes what a later open tells about an open core: its manifest,
// when the core does not know it, and a key pair that makes it writable.
// The manifest is stored; the key pair is kept in memory only.
func (st *state) adopt(id identity, opts *Options) error {
	if id.manifest == nil && id.keyPair == nil {
		return nil
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if id.manifest != nil && st.manifest == nil {
		enc, err := id.manifest.MarshalBinary()
		if err != nil {
			return err
		}
		h := st.header
		h.Manifest = enc
		b := st.store.db.NewBatch()
		b.SetHeader(st.id, &h)
		if err := b.Commit(); err != nil {
			return fmt.Errorf("hypercore: storing manifest: %w", notFound(err))
		}
		st.mu.Lock()
		st.header = h
		st.setManifestLocked(id.manifest)
		st.mu.Unlock()
	}
	if id.keyPair != nil && st.manifest != nil && isSigner(st.manifest, id.keyPair.PublicKey) {
		st.mu.Lock()
		st.keyPair = id.keyPair
		st.mu.Unlock()
	}
	return nil
}

// setManifestLocked makes m the core's manifest. The caller holds mu (or
// owns st exclusively).
func (st *state) setManifestLocked(m *Manifest) {
	st.manifest = m
	st.verifier = newVerifier(st.key, m, false)
	if m.Prologue != nil {
		st.tree.SetPrologue(&merkle.Prologue{Hash: m.Prologue.Hash, Length: m.Prologue.Length})
	}
	if st.encKey != nil {
		st.setEncryptionLocked() // compat cores derive their block key differently
	}
}

// setEncryptionLocked derives the block encryption from the encryption
// key, the core key and (for compat cores) the manifest.
func (st *state) setEncryptionLocked() {
	ek := st.encKey
	if st.manifest != nil && isCompat(st.key, st.manifest) {
		st.enc = NewBlockEncryption(CompatBlockEncryptionKey(st.key, ek))
		return
	}
	st.enc = NewBlockEncryption(BlockEncryptionKey(st.key, ek))
}

// padding returns the bytes of padding per block that byte lengths and
// seeks do not count.
func (st *state) paddingLocked() uint64 {
	if st.enc != nil {
		return EncryptionPadding
	}
	return 0
}

// signalLocked wakes every waiter on changed. The caller holds mu.
func (st *state) signalLocked() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// shutdown closes the core: waiters wake and fail, watchers stop,
// replication is detached, snapshots are released. It runs once, when the
// last session closes or the store closes.
func (st *state) shutdown() error {
	if st.closed.Swap(true) {
		return nil
	}
	st.wmu.Lock() // wait for a change in progress
	st.mu.Lock()
	repl := st.repl
	st.repl = nil
	snaps := st.snaps
	st.snaps = nil
	st.signalLocked()
	st.mu.Unlock()
	st.wmu.Unlock()

	var errs []error
	if repl != nil {
		errs = append(errs, repl.close())
	}
	for s := range snaps {
		errs = append(errs, s.close())
	}
	st.events.emit(Event{Kind: EventClose})
	st.events.close()
	return errors.Join(errs...)
}

// info returns the core's fork, length and byte length (without padding).
func (st *state) info() (fork, length, byteLength uint64) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.infoLocked()
}

func (st *state) infoLocked() (fork, length, byteLength uint64) {
	length = st.tree.Length()
	return st.tree.Fork(), length, st.tree.ByteLength() - length*st.paddingLocked()
}

// deleteChanges puts the deletions of a commit's tree changes in a storage
// batch: they go before every put of the commit, as merkle.Changes asks.
// The range of a truncation, node indices [2a, 2t) and the parents that
// reach past leaf a (Delete), is every node covering a block at or after
// a, which is what DeleteTreeFrom removes.
func deleteChanges(b *storage.Batch, id storage.CoreID, c *merkle.Changes) {
	if c.DeleteEnd > c.DeleteStart {
		b.DeleteTreeFrom(id, c.DeleteStart/2)
	}
	for _, i := range c.Delete {
		b.DeleteNode(id, i)
	}
}

// putNodes puts nodes in a storage batch; of repeated nodes, the last one
// written wins.
func putNodes(b *storage.Batch, id storage.CoreID, nodes []hcrypto.Node) {
	for _, n := range nodes {
		b.PutNode(id, n)
	}
}

// putBits writes the bitfield pages of blocks [start, end) set to v into b,
// from the in-memory bitfield and the change. The caller holds wmu.
func (st *state) putBits(b *storage.Batch, start, end uint64, v bool) {
	if end <= start {
		return
	}
	page := st.pageBuf[:0]
	for n := bitfield.PageOf(start); n <= bitfield.PageOf(end-1); n++ {
		page = st.bits.AppendPage(page[:0], n)
		bitfield.FillPage(page, n, start, end, v) // cannot fail: the page has the right size
		b.PutBitfieldPage(st.id, n, page)         // copies page
	}
	st.pageBuf = page
}

// headOf returns the head record of the tree batch b leads to.
func headOf(b *merkle.Batch) *storage.Head {
	return &storage.Head{
		Fork:       b.Fork(),
		Length:     b.Length(),
		ByteLength: b.ByteLength(),
		RootHash:   b.Hash(),
		Signature:  b.Signature(),
	}
}

// commit writes b and whatever fill adds in one storage batch, then moves
// the tree to b and calls apply, both under mu. The caller holds wmu.
//
// The batch holds the deletions of b's tree changes, then what fill puts,
// then b's new nodes in index order, so that fill must not delete tree
// nodes that b adds. Appends fill in key order (head, blocks, bitfield),
// which keeps the memtable's inserts cheap (see putNodes).
func (st *state) commit(b *merkle.Batch, fill func(*storage.Batch), apply func()) error {
	locked := false
	err := st.tree.Commit(b, func(c *merkle.Changes) error {
		sb := st.store.db.NewBatch()
		deleteChanges(sb, st.id, c)
		fill(sb)
		putNodes(sb, st.id, c.Nodes)
		if err := sb.Commit(); err != nil {
			st.nodes.reset()
			return fmt.Errorf("hypercore: commit: %w", notFound(err))
		}
		// Commit moves the tree once this returns: do it under mu.
		st.mu.Lock()
		st.nodes.apply(c)
		locked = true
		return nil
	})
	if locked {
		apply()
		st.mu.Unlock()
	}
	return err
}

// sign returns kp's signature of the tree b leads to.
func (st *state) sign(b *merkle.Batch, kp *hcrypto.KeyPair) ([]byte, error) {
	return st.verifier.sign(&signedTree{fork: b.Fork(), length: b.Length(), roots: b.Roots()}, kp)
}

// verifyTree implements merkle.SignatureVerifier with the core's manifest.
type treeVerifier struct{ v *verifier }

func (tv treeVerifier) VerifyTree(b *merkle.Batch, signature []byte) error {
	if !tv.v.verify(&signedTree{fork: b.Fork(), length: b.Length(), roots: b.Roots()}, signature) {
		return errors.New("signature does not verify against the manifest")
	}
	return nil
}

// checkOpen returns ErrClosed once the core is closed.
func (st *state) checkOpen() error {
	if st.closed.Load() {
		return ErrClosed
	}
	return nil
}

// waitChanged blocks until the core changes (changed was read under mu),
// ctx is done or done is closed.
func waitChanged(ctx context.Context, changed <-chan struct{}, done <-chan struct{}) error {
	select {
	case <-changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return ErrClosed
	}
}
