// Package storage keeps every core of a corestore in one Pebble database
// (github.com/cockroachdb/pebble/v2), the role RocksDB plays for the JS
// stack in hypercore-storage 3. It stores the same logical content per core
// as hypercore-storage (header with key, manifest, key pair and encryption
// key; head with fork, length, byte length, tree hash and signature; blocks;
// merkle tree nodes; local bitfield pages; user data) in a key layout of its
// own (DESIGN.md, Storage: the on-disk layout need not match JS).
//
// # Atomicity
//
// Every mutation goes through a [Batch], which is one Pebble batch: an
// append (blocks, tree nodes, bitfield pages, head with its signature) is
// committed all or nothing, and with the default [Options] it is synced to
// disk before [Batch.Commit] returns, so a crash loses no acknowledged write
// and never leaves half a write behind. Readers that need a fixed view
// across several reads use a [Snapshot].
//
// # Key layout (format version 2)
//
// All integers inside keys are fixed-width big-endian, so Pebble's
// byte-wise order is numeric order and a core's blocks and pages iterate
// in index order. The first byte of a key is its family:
//
//	0x00 0x00                          format version: uint32 BE (= 2)
//	0x00 0x01                          primary key: 32 bytes
//	0x00 0x02                          next core id: uint64 BE
//	0x00 0x03                          present in a database migrated
//	                                   from format 1: block values are
//	                                   the blocks, untagged
//	0x01 ‖ discoveryKey[32]            core id: uint64 BE
//	0x02 ‖ namespace[32] ‖ name        alias: core id, uint64 BE
//	0x03 ‖ coreID u64 ‖ 0x00           header record (see [Header])
//	0x03 ‖ coreID u64 ‖ 0x02 ‖ i u64   block i: 0x00 ‖ the block, or
//	                                   0x01 ‖ the block compressed with
//	                                   MinLZ (see below)
//	0x03 ‖ coreID u64 ‖ 0x04 ‖ n u64   bitfield page n: 4096 bytes
//	                                   (hypercore/internal/bitfield)
//	0x03 ‖ coreID u64 ‖ 0x05 ‖ key     user data value for key
//	0x03 ‖ coreID u64 ‖ 0x06           head record (see [Head])
//	0x03 ‖ coreID u64 ‖ 0x07 ‖ ^p u64  tree node pack p (below)
//
// Tree nodes are stored 32 blocks' worth to a key: pack p holds the nodes
// whose rightmost leaf is one of blocks [32p, 32p+32), in slots. Slot i <
// 63 holds flat-tree index 64p+i (the nodes of depth 0 to 5, which lie in
// the pack's blocks); slot 63+d-6 holds the node of depth d ≥ 6 that ends
// at block 32p+31. The value is the slot mask (slots 0..62 in a uint64 BE,
// then slots 63.. in a second) and the nodes of the set slots in slot
// order, each size uint64 BE ‖ hash[32]. Keying packs by ^p puts the
// newest first.
//
// A block is stored compressed (MinLZ block format, github.com/minio/minlz)
// when that saves at least an eighth of it: the WAL, the memtable,
// flushes and compactions then carry that much less, which made appends
// and downloads of text or structured blocks a quarter to a half faster.
// Encrypted or already compressed blocks are stored as they are.
//
// The order of the kinds is for appends: an append writes blocks at the
// end of the core's blocks, its head, its bitfield page and the packs at
// the start of its packs, so the keys of a flushed memtable span none of
// the core's older blocks or packs, and Pebble's compactions of newly
// flushed files rewrite only the core's head, bitfield pages and user
// data with them, not the whole core (with one key per tree node and the
// head before the blocks, as in format version 1, they rewrote every key
// of the core each time). Kinds 0x01 and 0x03 held the head and the tree
// nodes (one key each, size uint64 BE ‖ hash[32]) in format version 1.
//
// Core ids are allocated from the counter at 0x00 0x02, start at 1 and
// are never reused, so a deleted core's range can be dropped with one
// range deletion: [DB.DeleteCores] does that, with the core's
// discovery-key entry and the aliases naming it, in one synced batch.
//
// Records (header, head) are encoded with unsigned LEB128 varints and
// length-prefixed byte strings; a record that does not decode exactly
// (short, trailing bytes, bad lengths) yields [ErrCorrupt], never a panic.
//
// # Versioning
//
// A new database is stamped with format version 2. Open migrates a
// database of version 1 (each core in one synced batch, the version last,
// so that an interrupted migration goes on at the next Open) and refuses
// one whose version it does not know, or a non-empty database without a
// version, with [ErrUnknownFormat]. Pebble's own format is pinned to
// [pebble.FormatValueSeparation] (the newest in v2.1.7) so that a later
// Pebble does not silently change what is on disk. Values of 256 bytes or
// more (blocks, node packs, bitfield pages) are kept in Pebble's blob
// files (value separation), so that compactions move references to
// blocks instead of rewriting them; this is Pebble's business and changes
// no key or value of the layout above.
//
// # Concurrency
//
// A [DB], its [Core] handles and its [Snapshot]s are safe for concurrent
// use. A [Batch] is not: one goroutine builds and commits it. Close waits
// for calls in progress and then fails every later call with [ErrClosed];
// it must not be called from inside an iteration over the same DB.
package storage
