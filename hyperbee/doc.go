// Package hyperbee is an append-only B-tree of byte keys and values stored
// in a hypercore: hyperbee 2.x in Go, block-compatible with the npm module
// hyperbee 2.27.3, the format hyperdrive 13 keeps its file table in
// (PROTOCOLS.md §6).
//
// A [Bee] lives in any [Core], an append-only log of blocks;
// *hypercore.Core is one. Block 0 is a [Header]; every later block is one
// put or deletion, carrying the tree nodes that operation rewrote, so that
// every version of the tree stays readable: the bee's version is the
// core's length, and [Bee.Checkout] reads any earlier one.
//
//	bee := hyperbee.New(core, nil)
//	err := bee.Put(ctx, []byte("hello"), []byte("world"))
//	e, err := bee.Get(ctx, []byte("hello"))
//	for e, err := range bee.Range(ctx, hyperbee.Range{Gte: []byte("a"), Lt: []byte("b")}) { ... }
//
// # Compatibility
//
// Go reads every bee JS writes, and writes the blocks JS writes: for the
// same operations in the same order (puts, deletions, subs,
// compare-and-swap, batches) the appended blocks are byte for byte those
// of hyperbee 2.27.3, down to its choice of replacement key on delete, its
// rebalancing, and the index compaction of batches. The interop tests in
// this package hold both directions against the pinned JS reference.
//
// Keys and values are bytes; JS's key and value encodings are the
// caller's business (a JS bee with keyEncoding 'utf-8' stores the UTF-8
// bytes). [Bee.Sub] gives the prefix views of JS's sub() and of
// sub-encoder, with a zero byte as separator.
//
// Deliberate differences from JS, all on inputs JS handles badly:
// malformed blocks fail with [ErrCorrupt] where JS may read a truncated
// field; a checkout of a sub keeps the sub's range (JS forgets it); history
// bounds past a checkout's version stop there instead of failing; and
// [Bee.History] through a sub returns keys outside it whole, where JS cuts
// the prefix's length off them. The hyperbee replication extension (read
// acceleration) is not implemented; JS peers fall back to plain block
// requests, which is interoperable.
//
// # Concurrency
//
// A Bee and its views are safe for concurrent use. Writes (and open
// [Batch]es) are serialised by one lock per bee, shared with its subs and
// checkouts, as in JS. Reads take no lock: each sees the version the bee
// had when it started. Decoded blocks are cached (Options.CacheSize) and
// shared by all views.
package hyperbee
