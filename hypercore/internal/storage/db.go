package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/cockroachdb/pebble/v2/sstable"
	"io"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

var (
	// ErrClosed is returned by every call on a closed DB, and by a Batch
	// that was already committed or closed.
	ErrClosed = errors.New("storage: closed")
	// ErrNotFound is returned when the requested core, block, record or
	// value is not stored.
	ErrNotFound = errors.New("storage: not found")
	// ErrExists is returned when creating a core whose discovery key is
	// already stored, or setting a different primary key.
	ErrExists = errors.New("storage: already exists")
	// ErrCorrupt is wrapped by errors for stored records that do not
	// decode.
	ErrCorrupt = errors.New("storage: corrupt record")
	// ErrUnknownFormat is returned by Open for a database whose format
	// version this package does not know (or that has none).
	ErrUnknownFormat = errors.New("storage: unknown format version")
)

// CoreID identifies a core inside one DB. Ids start at 1 and are never
// reused.
type CoreID uint64

// Options configures Open. A nil *Options is valid and means the defaults.
type Options struct {
	// FS is the file system the database lives on; nil means the disk
	// (vfs.Default). Tests use vfs.NewMem or vfs.NewCrashableMem.
	FS vfs.FS
	// Logger receives Pebble's informational and error messages; nil
	// discards them.
	Logger *slog.Logger
	// NoSync, when true, lets Batch.Commit return before its write is
	// synced to disk: a crash may then lose recent commits (never a part
	// of one). The default (false) syncs every commit.
	NoSync bool
	// MemTableSize is the largest Pebble memtable, in bytes; 0 means
	// DefaultMemTableSize. Larger memtables absorb bursts of appends with
	// fewer flushes; up to two are in memory at once (one being written,
	// one being flushed).
	MemTableSize uint64
	// CacheSize is the size of the block cache, in bytes, beyond the
	// memtables (Pebble counts those against its cache); 0 means
	// DefaultCacheSize. It must not be negative.
	CacheSize int64
}

// The defaults of Options.MemTableSize and Options.CacheSize.
const (
	DefaultMemTableSize = 4 << 20
	DefaultCacheSize    = 8 << 20
)

// DB is one store's database, holding any number of cores.
type DB struct {
	pdb   *pebble.DB
	write *pebble.WriteOptions

	// state counts calls in progress; the top bit is set once Close
	// begins. drained is signalled when the count drops to zero after that.
	state   atomic.Uint64
	drained chan struct{}

	closeOnce sync.Once
	closeErr  error

	// mu serialises core creation and the primary key, and guards the
	// fields below. Close takes it only after calls in progress drained.
	mu     sync.Mutex
	nextID CoreID
	snaps  map[*Snapshot]struct{}

	packs packCache
	// rawBlocks is set for a database migrated from format version 1:
	// block values are untagged (see blockvalue.go).
	rawBlocks bool

	bmu   sync.Mutex
	spare []spareBatch // batches for reuse (spareBatch)
}

const closingBit = 1 << 63

// valueSeparation is the value separation policy of every DB: values of
// at least 256 bytes (blocks, in practice, compressed or not, tree node
// packs and bitfield pages) are written to blob files when a memtable is
// flushed, and later compactions move only their references instead of
// rewriting them. Blocks are most of what a store holds and are never
// changed in place, so this cuts the store's write amplification, and the
// CPU that flushes and compactions take from appends (about a tenth of the
// CPU of an append-only workload of 1 KiB blocks; 256 rather than 512
// bytes keeps 1 KiB blocks that compress to a third separated too). A blob file is rewritten once a fifth of it is garbage
// (truncated or cleared blocks) and it is at least five minutes old.
//
// MaxBlobReferenceDepth is high because Pebble's estimate of it does not
// fit appends. Pebble rewrites the values of a compaction into new blob
// files when the sstables it writes could reference more than that many
// blob files overlapping in key space; it estimates the number as the sum,
// over the compaction's inputs, of each level's (and each L0 sublevel's)
// largest count of referenced blob files. A core's blocks are appended in
// index order, so each flush's blob file holds a range of blocks of its
// own and blob files hardly overlap, but each flush's sstable also holds
// the core's head, so every L0 file is a sublevel of its own and the
// estimate grows by one per flush: with Pebble's default of 10, most L0
// compactions copied all the blocks they reached into new blob files,
// which was the largest single cost of appending in profiles. Reads are
// not slowed: a block lookup reads one blob file whatever the depth.
func valueSeparation() pebble.ValueSeparationPolicy {
	return pebble.ValueSeparationPolicy{
		Enabled:               true,
		MinimumSize:           256,
		MaxBlobReferenceDepth: 1024,
		RewriteMinimumAge:     5 * time.Minute,
		TargetGarbageRatio:    0.2,
	}
}

// Compaction, memtable and WAL settings for appends (Options fields of
// the same names). An append writes its core's head and bitfield page
// with its blocks and nodes, so the L0 sstables of successive flushes
// overlap (in the core's head, bitfield pages and newest packs; see the
// key layout in the package doc) and stack up as sublevels. An L0
// compaction merges them all; Pebble's default of starting one at 4 L0
// sublevels did that every 4 flushes. At 16 it happens a quarter as
// often, for point reads that may consult up to 16 L0 files' bloom
// filters instead of 4. Writes stop at an L0 read amplification of 48,
// well past what a burst of appends reaches while compactions keep up.
//
// memTableStopWritesThreshold lets up to 4 full memtables wait for their
// flush before commits stop (Pebble's default is 2): a flush takes its
// turn on the CPU with compactions, and with 2 a burst of appends often
// waited for one. The memory is spent only while flushes lag.
//
// walBytesPerSync starts writing the WAL to disk in the background every
// 512 KiB: when a memtable fills, Pebble syncs its WAL before the next
// commit proceeds, and without it that sync wrote the whole memtable then,
// stalling appends.
const (
	l0CompactionThreshold       = 16
	l0StopWritesThreshold       = 48
	memTableStopWritesThreshold = 4
	walBytesPerSync             = 512 << 10
)

// Open opens the database in dir, creating it if it does not exist.
func Open(dir string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	if opts.CacheSize < 0 {
		return nil, fmt.Errorf("storage: negative cache size %d", opts.CacheSize)
	}
	po := &pebble.Options{
		FS:                 opts.FS,
		Logger:             pebbleLogger{l: opts.Logger},
		FormatMajorVersion: pebble.FormatValueSeparation,
		MemTableSize:       opts.MemTableSize,
		CacheSize:          opts.CacheSize,
	}
	if po.FS == nil {
		po.FS = vfs.Default
	}
	if po.MemTableSize == 0 {
		po.MemTableSize = DefaultMemTableSize
	}
	if po.CacheSize == 0 {
		po.CacheSize = DefaultCacheSize
	}
	// Pebble counts its memtables against the block cache (it reserves
	// their size in it), so that a cache no larger than the memtables
	// caches nothing. Size it for the memtables (one being written, one
	// being flushed) on top of CacheSize.
	po.CacheSize += 2 * int64(po.MemTableSize)
	po.Experimental.ValueSeparationPolicy = valueSeparation
	po.L0CompactionThreshold = l0CompactionThreshold
	po.L0StopWritesThreshold = l0StopWritesThreshold
	po.WALBytesPerSync = walBytesPerSync
	po.MemTableStopWritesThreshold = memTableStopWritesThreshold
	// Bloom filters on every level (the other levels inherit L0's): a
	// replicating reader looks up many tree nodes that are not stored
	// (merkle.Tree.MissingNodes walks up from each block it asks for; the
	// core's record of its nodes answers most, but not those of a
	// reopened core), and a filter answers those without reading an
	// sstable's index and data blocks. 10 bits a key gives about 1% false
	// positives.
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// Flushes write the blocks (to blob files) and compress them with the
	// fastest codec Pebble has (MinLZ on amd64): in profiles of appends,
	// Snappy's compression of flushed blocks took a tenth of the CPU. The
	// other levels inherit it; they hold keys and small values.
	po.Levels[0].Compression = func() *sstable.CompressionProfile { return sstable.FastestCompression }
	pdb, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	db := &DB{
		pdb:     pdb,
		write:   pebble.Sync,
		drained: make(chan struct{}, 1),
		snaps:   make(map[*Snapshot]struct{}),
	}
	if opts.NoSync {
		db.write = pebble.NoSync
	}
	if err := db.init(); err != nil {
		pdb.Close()
		return nil, err
	}
	return db, nil
}

// init checks the format version, stamping a new database, and loads the
// core id counter.
func (db *DB) init() error {
	v, err := db.getCopy(db.pdb, keyVersion)
	switch {
	case errors.Is(err, ErrNotFound):
		it, err := db.pdb.NewIter(nil)
		if err != nil {
			return err
		}
		empty := !it.First()
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: database has data but no version", ErrUnknownFormat)
		}
		b := db.pdb.NewBatch()
		defer b.Close()
		b.Set(keyVersion, binary.BigEndian.AppendUint32(nil, formatVersion), nil)
		b.Set(keyNextID, binary.BigEndian.AppendUint64(nil, 1), nil)
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("storage: stamping version: %w", err)
		}
		db.nextID = 1
		return nil
	case err != nil:
		return err
	}
	if len(v) != 4 {
		return fmt.Errorf("%w: version record is %d bytes", ErrUnknownFormat, len(v))
	}
	switch got := binary.BigEndian.Uint32(v); got {
	case formatVersion:
	case 1:
		if err := db.migrateV1(); err != nil {
			return fmt.Errorf("storage: migrating from format 1: %w", err)
		}
	default:
		return fmt.Errorf("%w: %d (this build knows %d)", ErrUnknownFormat, got, formatVersion)
	}
	n, err := db.getCopy(db.pdb, keyNextID)
	if err != nil {
		return fmt.Errorf("storage: next core id: %w", err)
	}
	switch _, err := db.getCopy(db.pdb, keyRawBlocks); {
	case err == nil:
		db.rawBlocks = true
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if len(n) != 8 || binary.BigEndian.Uint64(n) == 0 {
		return fmt.Errorf("%w: next core id", ErrCorrupt)
	}
	db.nextID = CoreID(binary.BigEndian.Uint64(n))
	return nil
}

// acquire registers a call in progress; it fails once Close has begun.
func (db *DB) acquire() bool {
	if db.state.Add(1)&closingBit != 0 {
		db.release()
		return false
	}
	return true
}

func (db *DB) release() {
	if db.state.Add(^uint64(0)) == closingBit {
		select {
		case db.drained <- struct{}{}:
		default:
		}
	}
}

// Close waits for calls in progress, closes open snapshots and the
// database. It is idempotent; every later call returns ErrClosed.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.state.Or(closingBit)
		for db.state.Load() != closingBit {
			<-db.drained
		}
		db.mu.Lock()
		defer db.mu.Unlock()
		var errs []error
		for s := range db.snaps {
			s.closed.Store(true)
			errs = append(errs, s.snap.Close())
		}
		clear(db.snaps)
		db.bmu.Lock()
		for _, sb := range db.spare {
			errs = append(errs, sb.pb.Close())
		}
		db.spare = nil
		db.bmu.Unlock()
		errs = append(errs, db.pdb.Close())
		db.closeErr = errors.Join(errs...)
	})
	return db.closeErr
}

// getCopy reads key from r into a new slice.
func (db *DB) getCopy(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	return out, closer.Close()
}

// PrimaryKey returns the store's primary key (corestore derives named
// cores' key pairs from it), or ErrNotFound if none was set.
func (db *DB) PrimaryKey() ([32]byte, error) {
	var k [32]byte
	if !db.acquire() {
		return k, ErrClosed
	}
	defer db.release()
	v, err := db.getCopy(db.pdb, keyPrimary)
	if err != nil {
		return k, err
	}
	if len(v) != 32 {
		return k, fmt.Errorf("%w: primary key is %d bytes", ErrCorrupt, len(v))
	}
	return [32]byte(v), nil
}

// SetPrimaryKey stores the primary key. It can be set once: setting the
// same key again is a no-op, a different one returns ErrExists.
func (db *DB) SetPrimaryKey(k [32]byte) error {
	if !db.acquire() {
		return ErrClosed
	}
	defer db.release()
	db.mu.Lock()
	defer db.mu.Unlock()
	v, err := db.getCopy(db.pdb, keyPrimary)
	switch {
	case err == nil:
		if !bytes.Equal(v, k[:]) {
			return fmt.Errorf("%w: primary key", ErrExists)
		}
		return nil
	case !errors.Is(err, ErrNotFound):
		return err
	}
	return db.pdb.Set(keyPrimary, k[:], pebble.Sync)
}

// CreateCore stores a new core with header h and returns its handle. The
// write is synced even when the DB was opened with NoSync. It returns
// ErrExists if a core with h.DiscoveryKey is already stored.
func (db *DB) CreateCore(h *Header) (*Core, error) {
	if !db.acquire() {
		return nil, ErrClosed
	}
	defer db.release()
	db.mu.Lock()
	defer db.mu.Unlock()
	dk := dkeyKey(nil, &h.DiscoveryKey)
	if _, err := db.getCopy(db.pdb, dk); err == nil {
		return nil, fmt.Errorf("%w: core %x", ErrExists, h.DiscoveryKey[:8])
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	id := db.nextID
	b := db.pdb.NewBatch()
	defer b.Close()
	b.Set(dk, binary.BigEndian.AppendUint64(nil, uint64(id)), nil)
	b.Set(appendKindKey(nil, id, kindHeader), appendHeader(nil, h), nil)
	b.Set(keyNextID, binary.BigEndian.AppendUint64(nil, uint64(id)+1), nil)
	// Always synced, even with NoSync: creations are rare, and a core that
	// later batches refer to must not vanish in a crash.
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, fmt.Errorf("storage: create core: %w", err)
	}
	db.nextID++
	return &Core{db: db, r: db.pdb, id: id, dk: h.DiscoveryKey}, nil
}

// FindCore returns the core with discovery key dk, or ErrNotFound.
func (db *DB) FindCore(dk [32]byte) (*Core, error) {
	return db.findCore(db.pdb, dk)
}

func (db *DB) findCore(r pebble.Reader, dk [32]byte) (*Core, error) {
	if !db.acquire() {
		return nil, ErrClosed
	}
	defer db.release()
	v, err := db.getCopy(r, dkeyKey(nil, &dk))
	if err != nil {
		return nil, err
	}
	if len(v) != 8 {
		return nil, fmt.Errorf("%w: core id is %d bytes", ErrCorrupt, len(v))
	}
	return &Core{db: db, r: r, id: CoreID(binary.BigEndian.Uint64(v)), dk: dk}, nil
}

// FindAlias returns the core an alias (set with Batch.PutAlias) points to,
// or ErrNotFound.
func (db *DB) FindAlias(namespace [32]byte, name string) (*Core, error) {
	if !db.acquire() {
		return nil, ErrClosed
	}
	defer db.release()
	v, err := db.getCopy(db.pdb, aliasKey(nil, &namespace, name))
	if err != nil {
		return nil, err
	}
	if len(v) != 8 {
		return nil, fmt.Errorf("%w: alias value is %d bytes", ErrCorrupt, len(v))
	}
	c := &Core{db: db, r: db.pdb, id: CoreID(binary.BigEndian.Uint64(v))}
	h, err := c.Header()
	if err != nil {
		return nil, err // ErrNotFound for an alias of a deleted core
	}
	c.dk = h.DiscoveryKey
	return c, nil
}

// Cores yields every core, in discovery key order.
func (db *DB) Cores() iter.Seq2[*Core, error] {
	return db.cores(db.pdb)
}

func (db *DB) cores(r pebble.Reader) iter.Seq2[*Core, error] {
	return func(yield func(*Core, error) bool) {
		if !db.acquire() {
			yield(nil, ErrClosed)
			return
		}
		defer db.release()
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{famDKey}, UpperBound: []byte{famDKey + 1}})
		if err != nil {
			yield(nil, err)
			return
		}
		for valid := it.First(); valid; valid = it.Next() {
			k := it.Key()
			v, err := it.ValueAndErr()
			if err == nil && (len(k) != 33 || len(v) != 8) {
				err = fmt.Errorf("%w: core index entry", ErrCorrupt)
			}
			if err != nil {
				it.Close()
				yield(nil, err)
				return
			}
			c := &Core{db: db, r: r, id: CoreID(binary.BigEndian.Uint64(v)), dk: [32]byte(k[1:])}
			if !yield(c, nil) {
				it.Close()
				return
			}
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			yield(nil, err)
		}
	}
}

// NewBatch returns an empty write batch.
func (db *DB) NewBatch() *Batch {
	if !db.acquire() {
		return &Batch{db: db, err: ErrClosed}
	}
	defer db.release()
	sb := db.spareBatch()
	b := &Batch{db: db, b: sb.pb}
	b.key, b.val = b.keyArr[:0], b.valArr[:0]
	if sb.val != nil {
		b.val = sb.val
	}
	return b
}

// maxSpareBatches bounds the batches a DB keeps for reuse, and
// maxSpareValue the value scratch it keeps with each.
const (
	maxSpareBatches = 4
	maxSpareValue   = 1 << 20
)

// spareBatch is a batch kept for reuse: its Pebble batch and, when it
// grew out of the Batch's own array, its value scratch (which holds a
// compressed block: kept, it spares a replicated run of blocks an
// allocation per batch).
type spareBatch struct {
	pb  *pebble.Batch
	val []byte // empty, or nil
}

// spareBatch returns a spare batch or a new one. Pebble pools its batches
// itself, but in a sync.Pool, which every GC empties: a batch of an append
// or a replicated run of blocks then grows again from nothing,
// reallocating its buffer as it goes.
func (db *DB) spareBatch() spareBatch {
	db.bmu.Lock()
	defer db.bmu.Unlock()
	if n := len(db.spare); n > 0 {
		sb := db.spare[n-1]
		db.spare[n-1] = spareBatch{}
		db.spare = db.spare[:n-1]
		return sb
	}
	return spareBatch{pb: db.pdb.NewBatch()}
}

// recycleBatch resets pb (committed or abandoned) and keeps it for reuse
// with val, a value scratch not in the Batch's array, or closes it.
// Pebble's Reset drops a buffer over 1 MiB.
func (db *DB) recycleBatch(pb *pebble.Batch, val []byte) {
	db.bmu.Lock()
	defer db.bmu.Unlock()
	if len(db.spare) >= maxSpareBatches || db.state.Load()&closingBit != 0 {
		pb.Close()
		return
	}
	pb.Reset()
	if cap(val) > maxSpareValue {
		val = nil
	}
	db.spare = append(db.spare, spareBatch{pb: pb, val: val[:0:cap(val)]})
}

// Snapshot is a read-only, point-in-time view of the DB: cores read
// through it never see later writes. Close releases it; DB.Close closes
// any snapshot still open.
type Snapshot struct {
	db     *DB
	snap   *pebble.Snapshot
	once   sync.Once
	closed atomic.Bool
}

// NewSnapshot returns a snapshot of the DB as it is now.
func (db *DB) NewSnapshot() (*Snapshot, error) {
	if !db.acquire() {
		return nil, ErrClosed
	}
	defer db.release()
	s := &Snapshot{db: db, snap: db.pdb.NewSnapshot()}
	db.mu.Lock()
	db.snaps[s] = struct{}{}
	db.mu.Unlock()
	return s, nil
}

// FindCore returns the core with discovery key dk as of the snapshot.
func (s *Snapshot) FindCore(dk [32]byte) (*Core, error) { return s.db.findCore(snapReader{s}, dk) }

// Cores yields the cores as of the snapshot, in discovery key order.
func (s *Snapshot) Cores() iter.Seq2[*Core, error] { return s.db.cores(snapReader{s}) }

// Core returns the handle of the core c as of the snapshot.
func (s *Snapshot) Core(c *Core) *Core {
	return &Core{db: s.db, r: snapReader{s}, id: c.id, dk: c.dk}
}

// Close releases the snapshot. It is idempotent.
func (s *Snapshot) Close() error {
	var err error
	s.once.Do(func() {
		s.db.mu.Lock()
		defer s.db.mu.Unlock()
		if _, ok := s.db.snaps[s]; !ok {
			return // closed by DB.Close
		}
		s.closed.Store(true)
		delete(s.db.snaps, s)
		err = s.snap.Close()
	})
	return err
}

// snapReader reads through a snapshot, so that Core reads work the same on
// the DB and on a snapshot. Reading from a snapshot while another goroutine
// closes it is a programmer error; reading after Close returns ErrClosed.
type snapReader struct{ s *Snapshot }

var _ pebble.Reader = snapReader{}

func (r snapReader) Get(key []byte) ([]byte, io.Closer, error) {
	if r.s.closed.Load() {
		return nil, nil, ErrClosed
	}
	return r.s.snap.Get(key)
}

func (r snapReader) NewIter(o *pebble.IterOptions) (*pebble.Iterator, error) {
	if r.s.closed.Load() {
		return nil, ErrClosed
	}
	return r.s.snap.NewIter(o)
}

func (r snapReader) NewIterWithContext(ctx context.Context, o *pebble.IterOptions) (*pebble.Iterator, error) {
	if r.s.closed.Load() {
		return nil, ErrClosed
	}
	return r.s.snap.NewIterWithContext(ctx, o)
}

func (r snapReader) Close() error { return nil }

// pebbleLogger sends Pebble's messages to an slog.Logger (or nowhere).
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l != nil {
		p.l.Info(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	if p.l != nil {
		p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

// Fatalf is called by Pebble for states it cannot continue from (for
// example an internal invariant violated); it must not return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.l != nil {
		p.l.Error(msg, "component", "pebble", "fatal", true)
	}
	panic("storage: pebble fatal: " + msg)
}
