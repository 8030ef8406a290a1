package hypercore

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/replicator"
	"github.com/gopear/gopear/hypercore/internal/storage"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// This file stores data that peers sent in groups: a downloading core
// receives one data message per block, and one storage write each would
// cost more than verifying them. The replicator hands over every data
// message that arrived while the previous ones were being stored
// (replicator.BatchApplier); the blocks among them that only need
// verifying against the current tree are written together.

// ApplyBatch implements replicator.BatchApplier.
func (c replCore) ApplyBatch(ds []*wire.Data, from []replicator.PeerInfo, out []replicator.Applied, errs []error) {
	res := make([]applied, len(ds))
	c.st.applyBatch(ds, from, res, errs)
	for i := range ds {
		if errs[i] != nil {
			errs[i] = applyErr(errs[i])
			continue
		}
		out[i] = c.applied(res[i])
	}
}

// applyBatch applies ds in order, as apply would one after another: runs
// of plain blocks (see isPlainBlock) are verified one by one and stored
// in one batch; the rest goes through applyLocked. from[i] is the peer
// ds[i] came from.
func (st *state) applyBatch(ds []*wire.Data, from []replicator.PeerInfo, out []applied, errs []error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	g := blockGroups.Get().(*blockGroup)
	g.st, g.from = st, from
	defer func() {
		g.st, g.from = nil, nil
		blockGroups.Put(g)
	}()
	leaves := plainLeaves(ds, g)
	for i, d := range ds {
		if isPlainBlock(d) {
			g.add(i, d, leaves[i], out, errs)
			if g.bytes >= maxGroupBytes {
				g.commit(out, errs)
			}
			continue
		}
		g.commit(out, errs)
		out[i], errs[i] = st.applyLocked(d, from[i])
	}
	g.commit(out, errs)
}

// plainLeaves returns the leaf hashes of the blocks of ds's plain blocks
// (indexed as ds; zero for the others), hashed together: several at once
// where the CPU allows (hcrypto.LeafHashes). g's scratch holds them.
func plainLeaves(ds []*wire.Data, g *blockGroup) [][32]byte {
	leaves := slices.Grow(g.leaves[:0], len(ds))[:len(ds)]
	clear(leaves)
	values, slots := g.values[:0], g.leafSlots[:0]
	for i, d := range ds {
		if isPlainBlock(d) {
			values = append(values, d.Block.Value)
			slots = append(slots, i)
		}
	}
	hashes := slices.Grow(g.hashes[:0], len(values))[:len(values)]
	hcrypto.LeafHashes(hashes, values)
	for k, i := range slots {
		leaves[i] = hashes[k]
	}
	clear(values)
	g.leaves, g.values, g.leafSlots, g.hashes = leaves, values, slots, hashes
	return leaves
}

// isPlainBlock reports whether d is a block with its proof and nothing
// else: it verifies against the tree as it is, and storing it does not
// change the tree, so that blocks verified one after another can be
// stored together.
func isPlainBlock(d *wire.Data) bool {
	return d.Block != nil && d.Upgrade == nil && d.Manifest == nil && d.Hash == nil && d.Seek == nil
}

// maxGroupBytes bounds the block bytes stored in one batch: a group's
// batch is memory held until it commits, and Pebble keeps the buffers of
// batches under 1 MiB for reuse (larger ones are allocated anew).
const maxGroupBytes = 256 << 10

// blockGroups keeps blockGroups, whose slices are reused from one
// applyBatch to the next.
var blockGroups = sync.Pool{New: func() any { return new(blockGroup) }}

// blockGroup is a run of verified plain blocks waiting to be stored in
// one batch. Its methods run with wmu held.
type blockGroup struct {
	st      *state
	from    []replicator.PeerInfo // the caller's, indexed as its ds
	slots   []int                 // the entries of out and errs the group answers
	batches []*merkle.Batch
	blocks  []*wire.Data // the block each slot stores, nil for none
	indices []uint64     // the indices of the blocks stored, sorted at commit
	bytes   int          // the size of the blocks stored
	seen    map[uint64]bool
	// known holds the nodes of the group's batches: verified, so that the
	// proofs of the next blocks need climb only to them (KnownNode).
	known map[uint64]hcrypto.Node
	// scratch for commit and plainLeaves, kept between groups
	nodes          []hcrypto.Node
	leaves, hashes [][32]byte
	values         [][]byte
	leafSlots      []int
}

// add verifies plain block d (entry i of the caller's ds) and adds it to
// the group; a failed verification is answered at once.
func (g *blockGroup) add(i int, d *wire.Data, leaf [32]byte, out []applied, errs []error) {
	st := g.st
	if err := st.checkOpen(); err != nil {
		errs[i] = err
		return
	}
	b, err := st.tree.VerifyLeafKnown(d, nil, leaf, g)
	if err != nil {
		errs[i] = err
		return
	}
	idx := d.Block.Index
	store := !st.bits.Get(idx) && !g.seen[idx]
	if !store && len(b.Nodes()) == 0 {
		out[i] = applied{} // nothing new
		return
	}
	g.slots = append(g.slots, i)
	g.batches = append(g.batches, b)
	if g.known == nil {
		g.known = make(map[uint64]hcrypto.Node)
	}
	for _, n := range b.Nodes() {
		g.known[n.Index] = n
	}
	if store {
		if g.seen == nil {
			g.seen = make(map[uint64]bool)
		}
		g.seen[idx] = true
		g.blocks = append(g.blocks, d)
		g.indices = append(g.indices, idx)
		g.bytes += len(d.Block.Value)
	} else {
		g.blocks = append(g.blocks, nil)
	}
}

// commit stores the group in one batch, moves the core's in-memory state
// on, emits the download events and empties the group.
func (g *blockGroup) commit(out []applied, errs []error) {
	if len(g.slots) == 0 {
		return
	}
	st := g.st
	defer g.reset()
	// Verified one by one, the group's writes are made in key order
	// (blocks by index, then bitfield pages; the batch orders the tree
	// nodes' packs itself): the memtable inserts a batch in its order, and
	// an insert next to the previous one costs little.
	changes := make([]*merkle.Changes, 0, len(g.batches))
	n := 0
	for _, b := range g.batches {
		n += len(b.Nodes())
	}
	nodes := slices.Grow(g.nodes[:0], n)
	for _, b := range g.batches {
		err := st.tree.Commit(b, func(c *merkle.Changes) error {
			// Only nodes: a batch without an upgrade deletes none.
			changes = append(changes, c)
			nodes = append(nodes, c.Nodes...)
			return nil
		})
		if err != nil { // the tree cannot have moved: wmu is held
			g.fail(errs, fmt.Errorf("hypercore: commit: %w", err))
			return
		}
	}
	stored := make([]*wire.Data, 0, len(g.indices))
	for _, d := range g.blocks {
		if d != nil {
			stored = append(stored, d)
		}
	}
	slices.SortFunc(stored, func(a, b *wire.Data) int { return cmp.Compare(a.Block.Index, b.Block.Index) })
	g.nodes = nodes
	slices.Sort(g.indices)

	sb := st.store.db.NewBatch()
	for _, d := range stored {
		sb.PutBlock(st.id, d.Block.Index, d.Block.Value)
	}
	for _, n := range nodes {
		sb.PutNode(st.id, n)
	}
	st.putBlockBits(sb, g.indices)
	if err := sb.Commit(); err != nil {
		st.nodes.reset()
		g.fail(errs, fmt.Errorf("hypercore: commit: %w", notFound(err)))
		return
	}
	st.mu.Lock()
	for _, c := range changes {
		st.nodes.apply(c)
	}
	for _, i := range g.indices {
		st.bits.Set(i, true)
	}
	st.signalLocked()
	st.mu.Unlock()

	fork, length, bl := st.info()
	for k, slot := range g.slots {
		d := g.blocks[k]
		if d == nil {
			out[slot] = applied{}
			continue
		}
		out[slot] = applied{block: true, index: d.Block.Index}
		st.events.emit(Event{Kind: EventDownload, Fork: fork, Length: length, ByteLength: bl, Start: d.Block.Index, Bytes: st.blockBytes(d.Block.Value), Peer: peerInfo(g.from[slot])})
	}
}

// fail answers every entry of the group with err.
func (g *blockGroup) fail(errs []error, err error) {
	for _, slot := range g.slots {
		errs[slot] = err
	}
}

func (g *blockGroup) reset() {
	g.slots, g.batches, g.indices, g.bytes = g.slots[:0], g.batches[:0], g.indices[:0], 0
	clear(g.blocks)
	g.blocks = g.blocks[:0]
	clear(g.seen)
	clear(g.known)
}

// KnownNode implements merkle.KnownNodes with the group's nodes.
func (g *blockGroup) KnownNode(index uint64) (hcrypto.Node, bool) {
	n, ok := g.known[index]
	return n, ok
}

// putBlockBits writes into b the bitfield pages of the blocks indices
// (sorted, none stored yet) with their bits set: each page once, from the
// in-memory bitfield. The caller holds wmu.
func (st *state) putBlockBits(b *storage.Batch, indices []uint64) {
	for k := 0; k < len(indices); {
		n := bitfield.PageOf(indices[k])
		page := st.bits.AppendPage(st.pageBuf[:0], n)
		for ; k < len(indices) && bitfield.PageOf(indices[k]) == n; k++ {
			bitfield.FillPage(page, n, indices[k], indices[k]+1, true)
		}
		b.PutBitfieldPage(st.id, n, page) // copies page
		st.pageBuf = page
	}
}
