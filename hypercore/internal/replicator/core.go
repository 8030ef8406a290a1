package replicator

import (
	"errors"

	"github.com/gopear/gopear/hypercore/internal/wire"
)

// Errors a [Core] returns to the replicator, and errors of the replicator
// itself.
var (
	// ErrNotAvailable is wrapped by the errors of [Core.Proof] for requests
	// the core cannot answer because it lacks what is asked: the request is
	// for another fork, or for a block that is not stored. The replicator
	// answers noData NOT_AVAILABLE (1), or data carrying only the manifest
	// when the request asked for it and the core has one to give.
	ErrNotAvailable = errors.New("replicator: not available")

	// ErrInvalidData is wrapped by the errors of [Core.Apply] for data that
	// is wrong for reasons other than the merkle proof or the signature
	// (those wrap merkle.ErrBadProof and merkle.ErrBadSignature): a
	// manifest that does not hash to the core key, a block over the size
	// limit, a block value that does not match its leaf. The sending peer
	// is blamed for it, as for a bad proof.
	ErrInvalidData = errors.New("replicator: invalid data")

	// ErrClosed is returned by calls on a closed replicator.
	ErrClosed = errors.New("replicator: closed")

	// ErrNoPeers is returned by [Replicator.WaitBlock] and
	// [Replicator.Download] when Options.FailWithoutPeers is set and no
	// peer can provide the block.
	ErrNoPeers = errors.New("replicator: no peer has the block")
)

// State is a snapshot of a core's trusted state, as [Core.State] returns
// it. All fields come from one consistent moment.
type State struct {
	// Fork is the core's fork counter (bumped on each truncation).
	Fork uint64
	// Length is the number of blocks of the core's signed tree.
	Length uint64
	// ByteLength is the total size of those blocks.
	ByteLength uint64
	// Contiguous is the contiguous length: blocks [0, Contiguous) are all
	// stored locally. Contiguous <= Length.
	Contiguous uint64
	// HasManifest reports whether the core knows its manifest (and so can
	// verify signatures). A core opened from a key alone learns it from a
	// peer's data message.
	HasManifest bool
	// Compat reports whether the core is a compat core (key = the single
	// signer's public key), whose manifest is never sent on the wire.
	Compat bool
}

// Applied reports what [Core.Apply] changed.
type Applied struct {
	// Block is true when the data's block was stored now (false when there
	// was no block, or it was stored already). Index is its index.
	Block bool
	Index uint64
	// Upgraded is true when the core's length, fork or roots changed.
	Upgraded bool
	// Manifest is true when the core learned its manifest from the data.
	Manifest bool
	// Prev is the core's state right before the change, State right after
	// it (both from the same critical section of the core).
	Prev, State State
	// Ancestors is set by Reorg.Commit: the length of the prefix the new
	// fork shares with the old one (blocks from it on were dropped).
	Ancestors uint64
}

// Core is what the replicator needs from a hypercore: its identity, its
// state, its local bitfield, proofs for peers and a way to verify and store
// what peers send. Package hypercore's core implements it.
//
// # Concurrency
//
// Every method must be safe for concurrent use and must not block on the
// network. The replicator calls them from the goroutines of its muxes (the
// protomux reader goroutine, so a slow method delays that mux's other
// channels) and from its own goroutines, sometimes while holding its own
// lock; a Core must therefore never call back into the replicator
// synchronously from inside these methods. The notification methods of
// [Replicator] (OnAppend, OnTruncate, OnClear) only queue work, never
// block, and may be called with the core's locks held.
type Core interface {
	// Key returns the core key (the manifest hash, or the public key of a
	// compat core).
	Key() [32]byte

	// DiscoveryKey returns the discovery key, the id of the core's
	// replication channel (hcrypto.DiscoveryKey(Key())).
	DiscoveryKey() [32]byte

	// Capability returns the replication capability of a peer with the
	// given role on a stream with handshakeHash: hypercore.Capability(
	// isInitiator, Key(), handshakeHash). (The replicator cannot import
	// package hypercore, which imports it.)
	Capability(isInitiator bool, handshakeHash [64]byte) [32]byte

	// State returns the core's current state.
	State() State

	// HasBlock reports whether block index is stored locally.
	HasBlock(index uint64) bool

	// AppendBitfield appends count 32-bit words of the local bitfield
	// covering blocks [start, start+32*count) to dst, bit j of word w being
	// block start+32w+j (the layout of the bitfield message); start is a
	// multiple of 32 and count at most 65,536. Blocks not stored, including
	// those past the length, are 0 bits.
	AppendBitfield(dst []uint32, start uint64, count int) []uint32

	// Upgradeable reports whether the core can prove an upgrade from a
	// tree of length blocks to its current tree: length <= State().Length
	// and every root of the tree of that length is stored
	// (merkle.Tree.Upgradeable). It sets sync.canUpgrade.
	Upgradeable(length uint64) bool

	// MissingNodes returns the `nodes` count of a request for block index:
	// how many tree nodes, counting from the block's leaf upward, are not
	// stored below the roots of the current tree
	// (merkle.Tree.MissingNodes(2*index, State().Length)).
	//
	// It counts at most limit nodes (merkle.Tree.MissingNodesUpTo).
	MissingNodes(index, limit uint64) (uint64, error)

	// Proof answers a peer's request: the data message with Request =
	// req.ID, Fork = the core's fork, the proof nodes (merkle.Tree.Proof)
	// and, for block requests, the block value as stored (encrypted if the
	// core is). It does not fill in the manifest: the replicator does,
	// from Manifest. With the data it returns the function the replicator
	// calls once the message is sent (or dropped), after which the block
	// value may be reused; it is not nil when err is nil. to is the peer
	// the answer is for, as the core's upload event reports it.
	//
	// Errors: wrapping ErrNotAvailable when req.Fork is not the core's fork
	// or the requested block is not stored; wrapping
	// merkle.ErrInvalidRequest when the request cannot be proven (the
	// replicator answers both with noData, reasons 1 and 2). Any other
	// error is answered as an invalid request too.
	Proof(req *wire.Request, to PeerInfo) (*wire.Data, func(), error)

	// Manifest returns the manifest to send to peers that ask for it, or
	// nil when the core does not know it or is a compat core.
	Manifest() *wire.Manifest

	// Apply verifies data received from a peer and, if it is valid, stores
	// it atomically (block, tree nodes, bitfield, signature, header):
	// merkle.Tree.Verify with the manifest's signature verifier, after
	// adopting d.Manifest when the core lacks its manifest and the manifest
	// hashes to the key (or is the compat manifest of the key). The
	// replicator must not call Apply for data it did not ask for unless
	// push is allowed; it calls it at most once at a time per core.
	//
	// Errors: wrapping merkle.ErrForkMismatch when d.Fork is not the
	// core's fork (nothing is stored; the replicator treats it as stale or
	// as the start of a reorg); wrapping merkle.ErrBadProof,
	// merkle.ErrBadSignature or ErrInvalidData when the peer sent invalid
	// data (the replicator blames the peer). Any other error is a local
	// failure (storage): nothing may have been stored, and the peer is not
	// blamed.
	//
	// Data that verifies but adds nothing (a block already stored, an
	// upgrade to a length already reached) returns a zero Applied (with
	// State) and nil. The Core must not call the replicator's notification
	// methods for changes made by Apply: the replicator announces them
	// itself. from is the peer d came from, as the core's download event
	// reports it.
	Apply(d *wire.Data, from PeerInfo) (Applied, error)

	// Reorg starts a reorg from d, a peer's fork proof: data of a fork
	// higher than the core's with an upgrade from length 0 (and possibly
	// the manifest, adopted as in Apply). It verifies d as
	// merkle.Tree.Reorg does (errors wrap merkle.ErrBadProof,
	// merkle.ErrBadSignature or ErrInvalidData when the peer is to blame)
	// and stores nothing; the replicator completes the returned Reorg with
	// hash proofs and then commits it. At most one Reorg is in progress
	// per core.
	Reorg(d *wire.Data) (Reorg, error)
}

// Reorg is a reorg in progress: the verified tree of a peer's higher fork
// and the search for the last block it shares with the core (a
// merkle.ReorgBatch).
type Reorg interface {
	// Fork returns the fork the reorg leads to.
	Fork() uint64
	// Want returns the hashes still needed to find the common ancestor:
	// requests {hash: 2*i, nodes: nodes} for blocks i in [start, end); ok
	// is false once the reorg is finished (merkle.ReorgBatch.Want).
	Want() (start, end, nodes uint64, ok bool)
	// Update takes a peer's data answering a hash request of Want and
	// reports whether the reorg is finished (merkle.ReorgBatch.Update).
	Update(d *wire.Data) (finished bool, err error)
	// Commit applies a finished reorg atomically: blocks from the common
	// ancestor on are dropped (tree nodes, blocks, bitfield), and the core
	// takes the new fork, length, roots and signature. The Core must not
	// call the replicator's notification methods for it. It fails
	// wrapping merkle.ErrConflict when the core changed meanwhile (the
	// replicator then starts over).
	Commit() (Applied, error)
}
