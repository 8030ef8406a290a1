package hyperbee

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
)

// Errors returned by this package.
var (
	// ErrNotFound is returned by Get, GetBySeq and Peek when there is no
	// such entry.
	ErrNotFound = errors.New("hyperbee: not found")
	// ErrReadOnly is returned by writes to a checkout, a snapshot or a bee
	// opened with Options.ReadOnly.
	ErrReadOnly = errors.New("hyperbee: read-only")
	// ErrCorrupt marks a block that is not a valid hyperbee block, or a
	// tree whose pointers make no sense.
	ErrCorrupt = errors.New("hyperbee: corrupt block")
	// ErrClosed is returned by operations on a closed bee.
	ErrClosed = errors.New("hyperbee: closed")
	// ErrBatchDone is returned by a batch after Flush or Close.
	ErrBatchDone = errors.New("hyperbee: batch already flushed or closed")
)

// DefaultCacheSize is the memory, in bytes, a bee spends on decoded
// blocks when Options.CacheSize is 0: 64 MiB.
const DefaultCacheSize = 64 << 20

// Options configures [New]. A nil *Options is valid and means the defaults.
type Options struct {
	// Metadata is written into the header (block 0) when the bee appends
	// it, on its first write to an empty core. nil writes no metadata
	// field, as JS does without the metadata option.
	Metadata *Metadata
	// ReadOnly makes every write fail with ErrReadOnly (JS readonly).
	ReadOnly bool
	// SkipUnchanged makes a put of the value a key already has append
	// nothing (JS alwaysDuplicate: false). The default appends every put,
	// as JS does by default.
	SkipUnchanged bool
	// Sep is the separator [Bee.Sub] puts after a prefix; nil means one
	// zero byte (JS sep).
	Sep []byte
	// CacheSize bounds the memory, in bytes (approximately), spent on
	// decoded blocks kept for later reads and writes, shared by all views
	// of the bee; 0 means DefaultCacheSize, a negative value keeps none.
	CacheSize int
}

// Entry is a key and its value, and the seq of the block that wrote them.
type Entry struct {
	// Seq is the block holding the entry; the bee's version right after
	// it was written is Seq+1.
	Seq uint64
	// Key is the key, without the prefix of the Sub it was read through.
	Key []byte
	// Value is the value. It is nil only for a block that has none: a
	// deletion, or a JS put of null. A put from Go always has a value.
	Value []byte
}

// CASFunc decides a compare-and-swap write (JS's cas option): called with
// the entry the key has now and the entry about to be written (Value nil
// for a deletion), it returns whether to write. It is only called when the
// key exists; a put of a new key is always written, a deletion of a
// missing key never. It runs under the bee's write lock and must not call
// the bee.
type CASFunc func(prev, next Entry) bool

// shared is the state of a bee and all its views (subs, checkouts,
// snapshots).
type shared struct {
	core          Core
	lock          chan struct{}    // the write lock (JS mutexify lock), held by a send
	cache         seqCache[*block] // decoded blocks
	keys          seqCache[[]byte] // their keys
	metadata      *Metadata
	readonly      bool
	skipUnchanged bool

	mu        sync.Mutex
	closed    bool
	watchers  map[*Watcher]struct{}
	stopWatch func() // stops the core subscription while watchers exist
}

// Bee is a hyperbee: a B-tree of byte keys and values stored in a [Core],
// block-compatible with hyperbee 2.27.3. A Bee made by [New] reads the
// latest version of its core; [Bee.Checkout], [Bee.Snapshot] and [Bee.Sub]
// return views of the same tree that share its cache and write lock.
//
// A Bee is safe for concurrent use. Writes are serialised by a lock shared
// with all its views; reads do not take it.
type Bee struct {
	sh       *shared
	prefix   []byte // a sub's key prefix, nil for the whole bee
	sep      []byte
	checkout uint64 // fixed version; 0 for the live bee
}

// New returns the bee stored in core. It appends nothing: the header is
// written on the first write to an empty core (PROTOCOLS.md §6.4), so a
// bee on a core that is not writable can still read.
func New(core Core, opts *Options) *Bee {
	if opts == nil {
		opts = &Options{}
	}
	sh := &shared{
		core:          core,
		lock:          make(chan struct{}, 1),
		metadata:      opts.Metadata,
		readonly:      opts.ReadOnly,
		skipUnchanged: opts.SkipUnchanged,
	}
	budget := opts.CacheSize
	if budget == 0 {
		budget = DefaultCacheSize
	}
	// A quarter goes to keys, which binary searches load most.
	sh.cache.budget, sh.keys.budget = budget-budget/4, budget/4
	sep := opts.Sep
	if sep == nil {
		sep = []byte{0}
	}
	return &Bee{sh: sh, sep: bytes.Clone(sep)}
}

// Core returns the core the bee is stored in.
func (b *Bee) Core() Core { return b.sh.core }

// Version returns the bee's version: the core's length (at least 1), or
// the fixed version of a checkout. Version v contains the operations of
// blocks 1 ... v-1.
func (b *Bee) Version() uint64 {
	if b.checkout != 0 {
		return b.checkout
	}
	return max(1, b.sh.core.Length())
}

// Writable reports whether writes can succeed: the bee is not a checkout,
// not read-only, and the core is writable (when it says).
func (b *Bee) Writable() bool {
	return b.checkout == 0 && !b.sh.readonly && b.sh.writable()
}

// Prefix returns the key prefix of a sub, nil for the whole bee.
func (b *Bee) Prefix() []byte { return bytes.Clone(b.prefix) }

// Close closes the bee and all its views: watchers stop and later
// operations fail with ErrClosed. It does not close the core, which the
// caller owns. Close is idempotent.
func (b *Bee) Close() error {
	sh := b.sh
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return nil
	}
	sh.closed = true
	ws := sh.watchers
	sh.watchers = nil
	sh.mu.Unlock()
	for w := range ws {
		w.Close()
	}
	sh.cache.drop()
	sh.keys.drop()
	return nil
}

func (sh *shared) writable() bool {
	if w, ok := sh.core.(writableCore); ok {
		return w.Writable()
	}
	return true
}

func (sh *shared) isClosed() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.closed
}

// acquire takes the write lock.
func (sh *shared) acquire(ctx context.Context) error {
	select {
	case sh.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (sh *shared) release() { <-sh.lock }

// appendBlocks appends the blocks of operations starting at seq, caches
// them decoded, and wakes the watchers.
func (sh *shared) appendBlocks(ctx context.Context, seq uint64, blocks ...[]byte) error {
	res, err := sh.core.Append(ctx, blocks...)
	if err != nil {
		return fmt.Errorf("hyperbee: append: %w", err)
	}
	if res.Length == seq+uint64(len(blocks)) {
		fork := coreFork(sh.core)
		for i, raw := range blocks {
			if blk, err := newBlock(seq+uint64(i), raw); err == nil {
				sh.cacheBlock(blk, fork)
			}
		}
	}
	sh.notify()
	return nil
}

// checkWrite returns why b cannot write, if it cannot.
func (b *Bee) checkWrite() error {
	if b.sh.isClosed() {
		return ErrClosed
	}
	if b.checkout != 0 || b.sh.readonly {
		return ErrReadOnly
	}
	return nil
}

// readSession returns a session for one read: the version is fixed when it
// starts. A live bee first asks the core for updates, as JS does.
func (b *Bee) readSession(ctx context.Context, cache bool) (*session, error) {
	if b.sh.isClosed() {
		return nil, ErrClosed
	}
	s := &session{bee: b, sh: b.sh, fixed: b.checkout, fork: coreFork(b.sh.core)}
	if cache {
		s.entries = make(map[uint64]*entry)
	}
	if s.fixed == 0 {
		if u, ok := b.sh.core.(updatableCore); ok {
			if _, err := u.Update(ctx, nil); err != nil {
				return nil, fmt.Errorf("hyperbee: update: %w", err)
			}
		}
		s.fixed = max(1, b.sh.core.Length())
	}
	return s, nil
}

// writeSession returns a session for writes, with the lock held.
func (b *Bee) writeSession(batch bool) *session {
	return &session{bee: b, sh: b.sh, entries: make(map[uint64]*entry), batch: batch, fork: coreFork(b.sh.core)}
}

// full returns the stored form of a key given to b.
func (b *Bee) full(key []byte) []byte {
	if b.prefix == nil {
		if key == nil {
			return []byte{}
		}
		return key
	}
	k := make([]byte, 0, len(b.prefix)+len(key))
	return append(append(k, b.prefix...), key...)
}

// userKey strips b's prefix from a stored key (JS prefixEncoding decode:
// it drops as many bytes as the prefix has).
func (b *Bee) userKey(key []byte) []byte {
	if len(b.prefix) == 0 {
		return bytes.Clone(key)
	}
	if len(key) < len(b.prefix) {
		return []byte{}
	}
	return bytes.Clone(key[len(b.prefix):])
}

// final makes the Entry a block gives, as b's caller sees it.
func (b *Bee) final(e *entry) Entry { return b.finalKV(e.seq, e.key, e.value) }

// finalKV copies key (without b's prefix) and value into one allocation.
func (b *Bee) finalKV(seq uint64, key, value []byte) Entry {
	if len(b.prefix) > 0 {
		if len(key) < len(b.prefix) {
			key = nil
		} else {
			key = key[len(b.prefix):]
		}
	}
	buf := make([]byte, len(key)+len(value))
	n := copy(buf, key)
	copy(buf[n:], value)
	e := Entry{Seq: seq, Key: buf[:n:n]}
	if value != nil {
		e.Value = buf[n:]
	}
	return e
}

// entryOf makes the Entry of an operation being written, for CASFunc.
func (b *Bee) entryOf(seq uint64, key, value []byte) Entry {
	return Entry{Seq: seq, Key: b.userKey(key), Value: bytes.Clone(value)}
}

// Get returns the entry of key, or ErrNotFound.
func (b *Bee) Get(ctx context.Context, key []byte) (Entry, error) {
	s, err := b.readSession(ctx, false)
	if err != nil {
		return Entry{}, err
	}
	return s.getEntry(ctx, key)
}

func (s *session) getEntry(ctx context.Context, key []byte) (Entry, error) {
	e, err := s.get(ctx, s.bee.full(key))
	if err != nil {
		return Entry{}, err
	}
	if e == nil {
		return Entry{}, ErrNotFound
	}
	return s.bee.final(e), nil
}

// GetBySeq returns the operation of block seq as an entry (Value nil for a
// deletion), whatever the current value of its key. It fails with
// ErrNotFound for seq 0 (the header) and seqs past the bee's version.
func (b *Bee) GetBySeq(ctx context.Context, seq uint64) (Entry, error) {
	if b.sh.isClosed() {
		return Entry{}, ErrClosed
	}
	if seq == 0 || seq >= b.Version() {
		return Entry{}, ErrNotFound
	}
	blk, err := b.sh.loadBlock(ctx, seq, coreFork(b.sh.core))
	if err != nil {
		return Entry{}, err
	}
	return b.final(&entry{seq: seq, key: blk.key, value: blk.value, blk: blk}), nil
}

// Put sets key to value. It appends one block (and, on an empty core, the
// header first). A nil value is stored as an empty one.
func (b *Bee) Put(ctx context.Context, key, value []byte) error {
	_, err := b.PutCAS(ctx, key, value, nil)
	return err
}

// PutCAS is Put with a compare-and-swap check: when key exists, cas
// decides whether to write (JS put with the cas option). It reports
// whether a block was appended. A nil cas always writes.
func (b *Bee) PutCAS(ctx context.Context, key, value []byte, cas CASFunc) (bool, error) {
	if err := b.checkWrite(); err != nil {
		return false, err
	}
	if err := b.sh.acquire(ctx); err != nil {
		return false, err
	}
	defer b.sh.release()
	if value == nil {
		value = []byte{}
	}
	return b.writeSession(false).put(ctx, b.full(key), value, cas)
}

// Del deletes key. It appends one block when the key exists and nothing
// otherwise.
func (b *Bee) Del(ctx context.Context, key []byte) error {
	_, err := b.DelCAS(ctx, key, nil)
	return err
}

// DelCAS is Del with a compare-and-swap check: cas decides whether to
// delete the existing entry (JS del with the cas option). It reports
// whether a block was appended.
func (b *Bee) DelCAS(ctx context.Context, key []byte, cas CASFunc) (bool, error) {
	if err := b.checkWrite(); err != nil {
		return false, err
	}
	if err := b.sh.acquire(ctx); err != nil {
		return false, err
	}
	defer b.sh.release()
	return b.writeSession(false).del(ctx, b.full(key), cas)
}

// Checkout returns a read-only view of the bee at version (JS checkout);
// version 0 means 1, the empty bee. A checkout of a sub is a checkout of
// that sub. Checkouts read the blocks of the core below version; a
// checkout past the core's length waits for the blocks it needs.
func (b *Bee) Checkout(version uint64) *Bee {
	if version == 0 {
		version = 1
	}
	c := *b
	c.checkout = version
	return &c
}

// Snapshot returns a checkout of the bee's current version: later writes
// do not change what it reads.
func (b *Bee) Snapshot() *Bee { return b.Checkout(b.Version()) }

// Sub returns a view of the keys that start with b's prefix, then prefix,
// then the separator (Options.Sep, one zero byte by default), as JS
// sub(prefix) does: keys given to and returned by the sub lack that
// prefix, and its ranges cover only its keys.
func (b *Bee) Sub(prefix []byte) *Bee { return b.SubSep(prefix, nil) }

// SubSep is Sub with sep, when non-nil, as the separator after prefix
// instead of the bee's (JS sub(prefix, { sep })). Subs of the result use
// the bee's separator again, as in JS.
func (b *Bee) SubSep(prefix, sep []byte) *Bee {
	if sep == nil {
		sep = b.sep
	}
	p := make([]byte, 0, len(b.prefix)+len(prefix)+len(sep))
	p = append(append(append(p, b.prefix...), prefix...), sep...)
	c := *b
	c.prefix = p
	return &c
}

// GetHeader returns the header, block 0. On a writable core that is still
// empty it returns ErrNotFound; on another empty core it waits for block
// 0 as the core's Get does.
func (b *Bee) GetHeader(ctx context.Context) (*Header, error) {
	if b.sh.core.Length() == 0 && b.sh.writable() {
		return nil, ErrNotFound
	}
	raw, err := b.sh.core.Get(ctx, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("hyperbee: reading the header: %w", err)
	}
	h, err := decodeHeader(raw)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// IsHyperbee reports whether block 0 of core is a hyperbee header (JS
// Hyperbee.isHyperbee). It waits for block 0 as the core's Get does.
func IsHyperbee(ctx context.Context, core Core) (bool, error) {
	raw, err := core.Get(ctx, 0, nil)
	if err != nil {
		return false, err
	}
	h, err := decodeHeader(raw)
	if err != nil {
		return false, nil
	}
	return h.Protocol == protocolName, nil
}
