package replicator

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/blake2b"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// The hypercore namespaces (caps.js), recomputed here because this package
// cannot import package hypercore.
var hcNS = hcrypto.Namespace("hypercore", 6)

// fakeCore is an in-memory Core: a merkle tree over MemNodes, a block map
// and a bitfield, signing as a default hypercore 11 core with one signer.
type fakeCore struct {
	mu     sync.Mutex
	key    [32]byte
	dk     [32]byte
	kp     *hcrypto.KeyPair // nil for readers
	pub    hcrypto.PublicKey
	man    *wire.Manifest // nil until known
	nodes  merkle.MemNodes
	tree   *merkle.Tree
	blocks map[uint64][]byte
	bits   *bitfield.Bitfield
	rep    *Replicator

	proofsOut atomic.Int64 // proofs handed out and not released
	anonymous atomic.Int64 // proofs asked for and data applied without their peer

	// Test hooks.
	proofHook    func(*wire.Data) // mutates every proof it serves
	evilManifest bool             // serves a manifest that is not the core's
	applies      int              // successful Apply calls that stored something
}

func defaultManifest(pub hcrypto.PublicKey) *wire.Manifest {
	return &wire.Manifest{
		Version: 1,
		Quorum:  1,
		Signers: []wire.Signer{{Namespace: hcNS[4], PublicKey: pub}},
	}
}

func manifestHash(m *wire.Manifest) [32]byte {
	return hcrypto.Hash(hcNS[3][:], wire.Encode(m))
}

// newWriter returns a writable core whose key pair comes from seed.
func newWriter(seed byte, opts *Options) *fakeCore {
	var s [32]byte
	for i := range s {
		s[i] = seed
	}
	kp := hcrypto.KeyPairFromSeed(s)
	man := defaultManifest(kp.PublicKey)
	c := &fakeCore{kp: &kp, pub: kp.PublicKey, man: man, key: manifestHash(man)}
	c.init(opts)
	return c
}

// newReader returns an empty core with w's key, without its manifest.
func newReader(w *fakeCore, opts *Options) *fakeCore {
	c := &fakeCore{key: w.key, pub: w.pub}
	c.init(opts)
	return c
}

func (c *fakeCore) init(opts *Options) {
	c.dk = hcrypto.DiscoveryKey(c.key)
	c.nodes = merkle.MemNodes{}
	c.tree = merkle.New(c.nodes)
	c.blocks = make(map[uint64][]byte)
	c.bits = bitfield.New()
	c.rep = New(c, opts)
}

func signable(key, treeHash [32]byte, length, fork uint64) []byte {
	b := make([]byte, 0, 112)
	b = append(b, hcNS[0][:]...)
	b = append(b, key[:]...)
	b = append(b, treeHash[:]...)
	b = binary.LittleEndian.AppendUint64(b, length)
	return binary.LittleEndian.AppendUint64(b, fork)
}

func (c *fakeCore) sign(b *merkle.Batch) []byte {
	sig := hcrypto.Sign(c.kp.SecretKey, signable(c.key, b.Hash(), b.Length(), b.Fork()))
	out := []byte{1, 0}
	out = append(out, sig[:]...)
	return append(out, 0, 0)
}

// verifier checks one-signer multisig signatures against the manifest.
func (c *fakeCore) verifierLocked() merkle.SignatureVerifier {
	if c.man == nil {
		return nil
	}
	pub := c.man.Signers[0].PublicKey
	return merkle.VerifyFunc(func(treeHash [32]byte, length, fork uint64, sig []byte) error {
		if len(sig) != 68 || sig[0] != 1 || sig[1] != 0 || sig[66] != 0 || sig[67] != 0 {
			return errors.New("not a one-signer multisig")
		}
		if !hcrypto.Verify(pub[:], signable(c.key, treeHash, length, fork), sig[2:66]) {
			return errors.New("bad signature")
		}
		return nil
	})
}

func (c *fakeCore) Key() [32]byte          { return c.key }
func (c *fakeCore) DiscoveryKey() [32]byte { return c.dk }

func (c *fakeCore) Capability(isInitiator bool, hh [64]byte) [32]byte {
	h, _ := blake2b.New256(hh[:])
	if isInitiator {
		h.Write(hcNS[1][:])
	} else {
		h.Write(hcNS[2][:])
	}
	h.Write(c.key[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func (c *fakeCore) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateLocked()
}

func (c *fakeCore) stateLocked() State {
	return State{
		Fork:        c.tree.Fork(),
		Length:      c.tree.Length(),
		ByteLength:  c.tree.ByteLength(),
		Contiguous:  min(c.bits.ContiguousLength(), c.tree.Length()),
		HasManifest: c.man != nil,
	}
}

func (c *fakeCore) HasBlock(i uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bits.Get(i)
}

func (c *fakeCore) AppendBitfield(dst []uint32, start uint64, count int) []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.bits.AppendWords(dst, start, count)
	if err != nil {
		panic(err)
	}
	return out
}

func (c *fakeCore) Upgradeable(length uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if length > c.tree.Length() {
		return false
	}
	ok, _ := c.tree.Upgradeable(length)
	return ok
}

func (c *fakeCore) MissingNodes(index, limit uint64) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tree.MissingNodesUpTo(2*index, c.tree.Length(), limit)
}

func (c *fakeCore) Proof(req *wire.Request, to PeerInfo) (*wire.Data, func(), error) {
	if to.Mux == nil {
		c.anonymous.Add(1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.Fork != c.tree.Fork() {
		return nil, nil, fmt.Errorf("%w: fork %d", ErrNotAvailable, req.Fork)
	}
	if req.Block != nil && !c.bits.Get(req.Block.Index) {
		return nil, nil, fmt.Errorf("%w: block %d", ErrNotAvailable, req.Block.Index)
	}
	d, err := c.tree.Proof(req)
	if err != nil {
		return nil, nil, err
	}
	if req.Block != nil && d.Block != nil {
		d.Block.Value = c.blocks[req.Block.Index]
	}
	if c.proofHook != nil {
		c.proofHook(d)
	}
	c.proofsOut.Add(1)
	var released atomic.Bool
	return d, func() {
		if released.Swap(true) {
			panic("fakeCore: proof released twice")
		}
		c.proofsOut.Add(-1)
	}, nil
}

func (c *fakeCore) Manifest() *wire.Manifest {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.evilManifest && c.man != nil {
		m := *c.man
		m.Quorum = 2
		return &m
	}
	return c.man
}

// adoptManifestLocked takes m as the manifest if it is the core's.
func (c *fakeCore) adoptManifestLocked(m *wire.Manifest) (bool, error) {
	if m == nil || c.man != nil {
		return false, nil
	}
	if manifestHash(m) != c.key {
		return false, fmt.Errorf("%w: manifest does not hash to the key", ErrInvalidData)
	}
	if len(m.Signers) != 1 {
		return false, fmt.Errorf("%w: fake core supports one signer", ErrInvalidData)
	}
	c.man = m
	return true, nil
}

func (c *fakeCore) Apply(d *wire.Data, from PeerInfo) (Applied, error) {
	if from.Mux == nil {
		c.anonymous.Add(1)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.stateLocked()
	if d.Fork != c.tree.Fork() {
		return Applied{}, fmt.Errorf("%w: %d", merkle.ErrForkMismatch, d.Fork)
	}
	hadMan := c.man != nil
	b, err := c.tree.Verify(d, c.verifierLockedWith(d.Manifest))
	if err != nil {
		return Applied{}, err
	}
	gotMan, err := c.adoptManifestLocked(d.Manifest)
	if err != nil {
		return Applied{}, err
	}
	_ = hadMan
	a := Applied{Manifest: gotMan, Upgraded: b.Upgraded(), Prev: prev}
	err = c.tree.Commit(b, func(ch *merkle.Changes) error {
		c.nodes.Apply(ch)
		if d.Block != nil && !c.bits.Get(d.Block.Index) {
			c.blocks[d.Block.Index] = slices.Clone(d.Block.Value)
			c.bits.Set(d.Block.Index, true)
			a.Block, a.Index = true, d.Block.Index
		}
		return nil
	})
	if err != nil {
		return Applied{}, err
	}
	if a.Block || a.Upgraded || a.Manifest {
		c.applies++
	}
	a.State = c.stateLocked()
	return a, nil
}

// verifierLockedWith verifies with the core's manifest, or with m when the
// core has none yet and m is its manifest.
func (c *fakeCore) verifierLockedWith(m *wire.Manifest) merkle.SignatureVerifier {
	if c.man == nil && m != nil && manifestHash(m) == c.key && len(m.Signers) == 1 {
		saved := c.man
		c.man = m
		v := c.verifierLocked()
		c.man = saved
		return v
	}
	return c.verifierLocked()
}

type fakeReorg struct {
	c  *fakeCore
	rb *merkle.ReorgBatch
	m  *wire.Manifest
}

func (c *fakeCore) Reorg(d *wire.Data) (Reorg, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rb, err := c.tree.Reorg(d, c.verifierLockedWith(d.Manifest))
	if err != nil {
		return nil, err
	}
	return &fakeReorg{c: c, rb: rb, m: d.Manifest}, nil
}

func (f *fakeReorg) Fork() uint64 { return f.rb.Fork() }

func (f *fakeReorg) Want() (start, end, nodes uint64, ok bool) {
	w, ok := f.rb.Want()
	return w.Start, w.End, w.Nodes, ok
}

func (f *fakeReorg) Update(d *wire.Data) (bool, error) { return f.rb.Update(d) }

func (f *fakeReorg) Commit() (Applied, error) {
	c := f.c
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.stateLocked()
	if _, err := c.adoptManifestLocked(f.m); err != nil {
		return Applied{}, err
	}
	anc := f.rb.Ancestors()
	err := c.tree.Commit(f.rb.Batch, func(ch *merkle.Changes) error {
		c.nodes.Apply(ch)
		for i := range c.blocks {
			if i >= anc {
				delete(c.blocks, i)
				c.bits.Set(i, false)
			}
		}
		return nil
	})
	if err != nil {
		return Applied{}, err
	}
	return Applied{Upgraded: true, Prev: prev, State: c.stateLocked(), Ancestors: anc}, nil
}

// append appends blocks as the writer and tells the replicator.
func (c *fakeCore) append(blocks ...[]byte) {
	c.mu.Lock()
	start := c.tree.Length()
	b := c.tree.Batch()
	b.Append(blocks...)
	b.SetSignature(c.sign(b))
	err := c.tree.Commit(b, func(ch *merkle.Changes) error {
		c.nodes.Apply(ch)
		for i, v := range blocks {
			c.blocks[start+uint64(i)] = slices.Clone(v)
			c.bits.Set(start+uint64(i), true)
		}
		return nil
	})
	c.mu.Unlock()
	if err != nil {
		panic(err)
	}
	c.rep.OnAppend(start, uint64(len(blocks)))
}

// truncate truncates the writer to length, bumping the fork.
func (c *fakeCore) truncate(length uint64) {
	c.mu.Lock()
	old := c.tree.Length()
	b, err := c.tree.Truncate(length, c.tree.Fork()+1)
	if err != nil {
		panic(err)
	}
	b.SetSignature(c.sign(b))
	err = c.tree.Commit(b, func(ch *merkle.Changes) error {
		c.nodes.Apply(ch)
		for i := range c.blocks {
			if i >= length {
				delete(c.blocks, i)
				c.bits.Set(i, false)
			}
		}
		return nil
	})
	c.mu.Unlock()
	if err != nil {
		panic(err)
	}
	c.rep.OnTruncate(length, old)
}

func (c *fakeCore) block(i uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.blocks[i]
	return v, ok
}

func (c *fakeCore) storedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.blocks)
}

var _ Core = (*fakeCore)(nil)
