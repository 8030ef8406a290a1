package hypercore

import (
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/storage"
)

// MaxBlockSize is the largest block Append accepts: 15 MiB, hypercore's
// MAX_SUGGESTED_BLOCK_SIZE. A block travels in one data message, and one
// secret-stream message is at most 2^24-1 bytes.
const MaxBlockSize = 15 << 20

// Options configures [Open] and [Store.Open]. A nil *Options is valid and
// means the defaults.
//
// Which core is opened:
//
//   - Manifest set: the core whose key is Manifest.Hash(); KeyPair, if set,
//     must be one of its signers and makes the core writable.
//   - KeyPair set (no Manifest): the core of [DefaultManifest] for
//     KeyPair.PublicKey, writable, as JS `new Hypercore(dir, { keyPair })`.
//   - Key set alone: the core with that key, read-only until a peer (or
//     Options.Manifest) gives its manifest.
//   - nothing set: with [Open], the one core already stored in the
//     directory, or a new core with a fresh random key pair when there is
//     none (as JS does); with [Store.Open], a new core with a fresh key pair.
//
// When Key is set together with Manifest or KeyPair, it must be the key they
// give, else Open returns [ErrKeyMismatch].
type Options struct {
	// KeyPair is the writer's key pair. Its secret key is stored with a
	// core created by this call (as JS stores it), so a later Open without
	// options gets a writable core again.
	KeyPair *hcrypto.KeyPair
	// Key is the core key (the manifest hash). The zero Key means none.
	Key Key
	// Manifest is the core's manifest when it is not the default one for
	// KeyPair (several signers, a prologue, user data ...).
	Manifest *Manifest
	// EncryptionKey turns on block encryption (PROTOCOLS.md §5.3,
	// [BlockEncryptionKey]): blocks are encrypted before they are appended
	// and decrypted by Get. nil means the key stored with the core, if any;
	// a key given when the core is created is stored with it.
	EncryptionKey []byte
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger

	// The fields below configure the database [Open] opens; [Store.Open]
	// ignores them (the Store's own options apply).

	// NoSync lets an append return before its batch is synced to disk: a
	// crash may then lose the latest appends, never a part of one and never
	// leaving a core that fails verification. The default (false) syncs
	// every change, so nothing acknowledged is lost. JS hypercore does not
	// sync (RocksDB's default); NoSync is the like-for-like setting.
	NoSync bool
	// FS is the file system the database lives on; nil means the disk.
	// Tests use vfs.NewMem or vfs.NewCrashableMem.
	FS vfs.FS
	// MemTableSize and CacheSize: see [StoreOptions].
	MemTableSize uint64
	CacheSize    int64
}

// StoreOptions configures [OpenStore]. A nil *StoreOptions is valid and
// means the defaults.
type StoreOptions struct {
	// NoSync: see [Options.NoSync]. The default syncs every change.
	NoSync bool
	// FS is the file system the database lives on; nil means the disk.
	FS vfs.FS
	// Logger receives diagnostics of the database; nil discards them.
	Logger *slog.Logger
	// MemTableSize is the size in bytes of the database's write buffer
	// (Pebble memtable), of which up to two are in memory at once; 0 means
	// [DefaultMemTableSize]. Larger ones absorb bursts of appends with
	// fewer flushes to disk, at the cost of resident memory.
	MemTableSize uint64
	// CacheSize is the size in bytes of the database's block cache, which
	// keeps recently read parts of its files (tree nodes, bitfield pages,
	// blocks) in memory, on top of the memtables; 0 means
	// [DefaultCacheSize]. It must not be negative.
	CacheSize int64
}

// The defaults of [StoreOptions.MemTableSize] and [StoreOptions.CacheSize]:
// 4 MiB and 8 MiB, which keep a store's database within about 16 MiB of
// memory (two memtables and the cache). JS hypercore's RocksDB defaults to
// a 64 MiB write buffer. A store that mostly appends in large batches goes
// about a fifth faster with 8 MiB memtables, for 8 MiB more memory; a
// store that downloads gains nothing from them.
const (
	DefaultMemTableSize = storage.DefaultMemTableSize
	DefaultCacheSize    = storage.DefaultCacheSize
)

// GetOptions configures [Core.Get] and [Core.Seek]. A nil *GetOptions is
// valid and means the defaults, which are JS's: wait for peers.
type GetOptions struct {
	// NoWait makes Get return [ErrNotAvailable] at once for a block that is
	// not stored locally, instead of asking peers and waiting for it (JS
	// { wait: false }).
	NoWait bool
	// Timeout bounds the wait for a block from peers; 0 means no bound
	// other than the context. When it expires the call returns an error
	// wrapping context.DeadlineExceeded.
	Timeout time.Duration
	// Raw returns the block as stored, without decrypting it (JS
	// { raw: true }). It makes no difference for unencrypted cores.
	Raw bool
}

// UpdateOptions configures [Core.Update]. A nil *UpdateOptions is valid and
// means the defaults.
type UpdateOptions struct {
	// Force makes a writable core ask peers too (JS { force: true }); a
	// writer's own length is otherwise the latest by definition.
	Force bool
}

// TruncateOptions configures [Core.Truncate]. A nil *TruncateOptions is
// valid and means the defaults.
type TruncateOptions struct {
	// Fork is the fork id after the truncation. 0 means the current fork
	// plus one, JS's default; a non-zero Fork must not be below the
	// current fork.
	Fork uint64
}

// Range is a range of blocks for [Core.Download]: [Start, End). End 0
// means up to the core's length when the download starts.
type Range struct {
	Start, End uint64
}
