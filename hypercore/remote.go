package hypercore

import (
	"errors"
	"fmt"

	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/replicator"
	"github.com/gopear/gopear/hypercore/internal/storage"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// This file is the core's side of replication: answering peers' requests
// with proofs, and verifying and storing what peers send (JS core.verify,
// _verifyExclusive, _verifyShared and verifyReorg, lib/core.js). The
// replicator reaches it through the adapter in replicate.go.

var (
	// errUnavailable: a request for another fork or a block not stored.
	errUnavailable = errors.New("hypercore: not available")
	// errInvalidData: a peer's data that is wrong apart from its proof and
	// signature (a manifest that does not hash to the key).
	errInvalidData = errors.New("hypercore: invalid data")
)

// proof answers a peer's request from the trusted tree, with the block
// value as stored (encrypted if the core is), and returns the function
// that releases the value once the answer is sent (never nil). The
// manifest is the replicator's to add.
func (st *state) proof(req *wire.Request) (*wire.Data, func(), error) {
	if err := st.checkOpen(); err != nil {
		return nil, nil, err
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	if req.Fork != st.tree.Fork() {
		return nil, nil, fmt.Errorf("%w: request for fork %d, core is at fork %d", errUnavailable, req.Fork, st.tree.Fork())
	}
	if req.Block != nil && (req.Block.Index >= st.tree.Length() || !st.bits.Get(req.Block.Index)) {
		return nil, nil, fmt.Errorf("%w: block %d is not stored", errUnavailable, req.Block.Index)
	}
	d, err := st.tree.Proof(req)
	if err != nil {
		return nil, nil, err
	}
	release := func() {}
	if req.Block != nil && d.Block != nil {
		v, done, err := st.ra.block(st.sc, st.tree.Fork(), st.tree.Length(), req.Block.Index)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil, fmt.Errorf("%w: block %d is not stored", errUnavailable, req.Block.Index)
		}
		if err != nil {
			return nil, nil, notFound(err)
		}
		d.Block.Value, release = v, done
	}
	return d, release, nil
}

// wireManifest returns the manifest to send to peers: nil when unknown
// or for a compat core (whose key is its manifest).
func (st *state) wireManifest() *wire.Manifest {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.manifest == nil || isCompat(st.key, st.manifest) {
		return nil
	}
	return st.manifest.toWire()
}

// applied is what apply changed.
type applied struct {
	block    bool // the data's block was stored now
	index    uint64
	upgraded bool
	manifest bool
}

// learnManifest returns the manifest d carries when the core lacks one,
// checked against the key, and the verifier to use for d. When the core
// has no manifest and d carries none, it tries the key as a compat core's
// public key, as JS does (core.js _verifyBatchUpgrade); that guess is
// kept (guessed is true) only if d's signature verifies with it.
func (st *state) learnManifest(d *wire.Data) (m *Manifest, v *verifier, guessed bool, err error) {
	if st.manifest != nil {
		return nil, st.verifier, false, nil
	}
	if d.Manifest == nil {
		if d.Upgrade == nil {
			return nil, nil, false, nil
		}
		m = DefaultManifest(st.key)
		return m, newVerifier(st.key, m, false), true, nil
	}
	m = manifestFromWire(d.Manifest)
	if !manifestMatches(st.key, m) {
		return nil, nil, false, fmt.Errorf("%w: manifest does not hash to the core key", errInvalidData)
	}
	return m, newVerifier(st.key, m, false), false, nil
}

// setPrologue gives the tree the prologue of a manifest being learned, so
// that the proof carrying it verifies against it. The prologue comes from
// a manifest that hashes to the key, so it is right even if the rest of
// the data is not.
func (st *state) setPrologue(m *Manifest) {
	if m == nil || m.Prologue == nil || st.tree.Prologue() != nil {
		return
	}
	st.mu.Lock()
	st.tree.SetPrologue(&merkle.Prologue{Hash: m.Prologue.Hash, Length: m.Prologue.Length})
	st.mu.Unlock()
}

// apply verifies data from a peer and stores what it adds in one batch:
// tree nodes, the block, its bitfield page, the new head and signature
// for an upgrade, the manifest when learned. from is the peer d came
// from, for the download event.
func (st *state) apply(d *wire.Data, from replicator.PeerInfo) (applied, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	return st.applyLocked(d, from)
}

// applyLocked is apply with wmu held.
func (st *state) applyLocked(d *wire.Data, from replicator.PeerInfo) (applied, error) {
	if err := st.checkOpen(); err != nil {
		return applied{}, err
	}
	learnt, v, guessed, err := st.learnManifest(d)
	if err != nil {
		return applied{}, err
	}
	if !guessed {
		st.setPrologue(learnt)
	}
	var sv merkle.SignatureVerifier
	if v != nil {
		sv = treeVerifier{v}
	}
	b, err := st.tree.Verify(d, sv)
	if err != nil {
		return applied{}, err
	}
	if guessed && !b.Upgraded() {
		learnt = nil // the signature was not checked: nothing confirms the guess
	}
	var a applied
	if d.Block != nil && !st.bits.Get(d.Block.Index) {
		a.block, a.index = true, d.Block.Index
	}
	a.upgraded = b.Upgraded()
	a.manifest = learnt != nil
	if !a.block && !a.upgraded && !a.manifest && len(b.Nodes()) == 0 {
		return applied{}, nil
	}
	oldLength := st.tree.Length()
	var header storage.Header
	if learnt != nil {
		header = st.header
		if header.Manifest, err = learnt.MarshalBinary(); err != nil {
			return applied{}, fmt.Errorf("%w: %w", errInvalidData, err)
		}
	}
	err = st.commit(b, func(sb *storage.Batch) {
		if a.block {
			sb.PutBlock(st.id, a.index, d.Block.Value)
			st.putBits(sb, a.index, a.index+1, true)
		}
		if learnt != nil {
			sb.SetHeader(st.id, &header)
		}
		if a.upgraded {
			sb.SetHead(st.id, headOf(b))
		}
	}, func() {
		if a.block {
			st.bits.Set(a.index, true)
		}
		if learnt != nil {
			st.header = header
			st.setManifestLocked(learnt)
		}
		st.signalLocked()
	})
	if err != nil {
		return applied{}, err
	}

	fork, length, bl := st.info()
	if a.manifest {
		st.events.emit(Event{Kind: EventManifest, Fork: fork, Length: length, ByteLength: bl})
	}
	if a.upgraded && length > oldLength {
		st.events.emit(Event{Kind: EventAppend, Fork: fork, Length: length, ByteLength: bl, Start: oldLength})
	}
	if a.block {
		st.events.emit(Event{Kind: EventDownload, Fork: fork, Length: length, ByteLength: bl, Start: a.index, Bytes: st.blockBytes(d.Block.Value), Peer: peerInfo(from)})
	}
	return a, nil
}

// blockBytes returns the size of a stored block without its padding.
func (st *state) blockBytes(v []byte) uint64 {
	st.mu.RLock()
	p := st.paddingLocked()
	st.mu.RUnlock()
	return uint64(len(v)) - min(uint64(len(v)), p)
}

// reorgOp is a reorg in progress (replicator.Reorg): the verified tree of
// a peer's higher fork, completed with hash proofs, then committed.
type reorgOp struct {
	st     *state
	rb     *merkle.ReorgBatch
	learnt *Manifest // stored on commit
}

// reorg starts a reorg from a peer's fork proof. Nothing is stored until
// the reorg commits.
func (st *state) reorg(d *wire.Data) (*reorgOp, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if err := st.checkOpen(); err != nil {
		return nil, err
	}
	learnt, v, guessed, err := st.learnManifest(d)
	if err != nil {
		return nil, err
	}
	if !guessed {
		st.setPrologue(learnt)
	}
	var sv merkle.SignatureVerifier
	if v != nil {
		sv = treeVerifier{v}
	}
	rb, err := st.tree.Reorg(d, sv)
	if err != nil {
		return nil, err
	}
	return &reorgOp{st: st, rb: rb, learnt: learnt}, nil
}

func (r *reorgOp) fork() uint64 { return r.rb.Fork() }

func (r *reorgOp) want() (start, end, nodes uint64, ok bool) {
	w, ok := r.rb.Want()
	return w.Start, w.End, w.Nodes, ok
}

func (r *reorgOp) update(d *wire.Data) (bool, error) { return r.rb.Update(d) }

// commit applies the finished reorg in one batch: blocks, bitfield bits and
// tree nodes from the common ancestor on are dropped, and the core moves
// to the new fork, length, roots and signature.
func (r *reorgOp) commit() (applied, error) {
	st := r.st
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if err := st.checkOpen(); err != nil {
		return applied{}, err
	}
	if !r.rb.Finished() {
		return applied{}, fmt.Errorf("%w: reorg is not finished", errInvalidData)
	}
	old := st.tree.Length()
	anc := r.rb.Ancestors()
	var header storage.Header
	if r.learnt != nil && st.manifest == nil {
		header = st.header
		var err error
		if header.Manifest, err = r.learnt.MarshalBinary(); err != nil {
			return applied{}, fmt.Errorf("%w: %w", errInvalidData, err)
		}
	} else {
		r.learnt = nil
	}
	b := r.rb.Batch
	err := st.commit(b, func(sb *storage.Batch) {
		if anc < old {
			sb.DeleteBlockRange(st.id, anc, old)
			st.putBits(sb, anc, old, false)
		}
		if r.learnt != nil {
			sb.SetHeader(st.id, &header)
		}
		sb.SetHead(st.id, headOf(b))
	}, func() {
		if anc < old {
			st.bits.SetRange(anc, old, false)
		}
		for s := range st.snaps {
			s.compat = min(s.compat, anc)
		}
		if r.learnt != nil {
			st.header = header
			st.setManifestLocked(r.learnt)
		}
		st.signalLocked()
	})
	if err != nil {
		return applied{}, err
	}
	fork, length, bl := st.info()
	st.events.emit(Event{Kind: EventTruncate, Fork: fork, Length: length, ByteLength: bl, Start: anc})
	if length > anc {
		st.events.emit(Event{Kind: EventAppend, Fork: fork, Length: length, ByteLength: bl, Start: anc})
	}
	return applied{upgraded: true, manifest: r.learnt != nil}, nil
}
