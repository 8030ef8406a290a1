package storage

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/gopear/gopear/hcrypto"
)

// A batch collects its node writes per pack (see nodepack.go) and writes
// each pack it touched once, at Commit: the stored pack, minus the nodes
// the batch deleted, plus those it put. Reading the stored pack at Commit
// is why batches that write nodes of the same core must not be committed
// concurrently (hypercore commits a core's writes under its write lock).

// packEdit is a batch's change to one pack.
type packEdit struct {
	id   CoreID
	pack uint64
	// fresh is set when the stored pack no longer counts: the batch
	// deleted it (DeleteTreeFrom, DeleteCore) before this edit's puts.
	fresh bool
	del   slotSet // slots deleted from the stored pack
	put   nodePack
	// val is the pack's value as the batch writes it, nil when the batch
	// deletes it or leaves it as it was; set by writePacks.
	val []byte
}

type packRef struct {
	id   CoreID
	pack uint64
}

// deletedFrom records that a batch range-deleted the packs of core id from
// pack on.
type deletedFrom struct {
	id   CoreID
	pack uint64
}

var packEdits = sync.Pool{New: func() any { return new(packEdit) }}

// packEdit returns the batch's edit of pack of core id, making it.
func (b *Batch) packEdit(id CoreID, pack uint64) *packEdit {
	if e := b.lastEdit; e != nil && e.id == id && e.pack == pack {
		return e
	}
	ref := packRef{id, pack}
	e, ok := b.editOf[ref]
	if !ok {
		e = packEdits.Get().(*packEdit)
		val := e.val[:0]
		*e = packEdit{id: id, pack: pack, fresh: b.packDeleted(id, pack), val: val}
		if b.editOf == nil {
			b.editOf = make(map[packRef]*packEdit)
		}
		b.editOf[ref] = e
		b.edits = append(b.edits, e)
	}
	b.lastEdit = e
	return e
}

// packDeleted reports whether the batch range-deleted pack of core id.
func (b *Batch) packDeleted(id CoreID, pack uint64) bool {
	for _, d := range b.deleted {
		if d.id == id && pack >= d.pack {
			return true
		}
	}
	return false
}

// PutNode stores tree node n of core id.
func (b *Batch) PutNode(id CoreID, n hcrypto.Node) {
	if !b.ok() {
		return
	}
	pack, slot, ok := packSlot(n.Index)
	if !ok {
		b.err = fmt.Errorf("storage: tree node index %d out of range", n.Index)
		return
	}
	b.packEdit(id, pack).put.put(slot, n)
}

// DeleteNode removes tree node index of core id.
func (b *Batch) DeleteNode(id CoreID, index uint64) {
	if !b.ok() {
		return
	}
	pack, slot, ok := packSlot(index)
	if !ok {
		return // never stored
	}
	e := b.packEdit(id, pack)
	e.put.has.remove(slot)
	e.del.add(slot)
}

// DeleteTreeFrom removes every tree node of core id that covers a block at
// or after leaf, as truncating the tree to leaf blocks does: the nodes of
// the truncated blocks and their parents.
func (b *Batch) DeleteTreeFrom(id CoreID, leaf uint64) {
	if !b.ok() {
		return
	}
	first := leaf / packLeaves
	if leaf%packLeaves != 0 {
		e := b.packEdit(id, first)
		for slot := range packSlots {
			if slotLastLeaf(first, slot) >= leaf {
				e.put.has.remove(slot)
				e.del.add(slot)
			}
		}
		first++
	}
	b.deletePacksFrom(id, first)
	lo, hi := packRange(id, first, ^uint64(0))
	b.delRange(lo, hi)
}

// deletePacksFrom drops the batch's edits of core id's packs from pack on
// and makes later ones fresh: the caller range-deletes those packs.
func (b *Batch) deletePacksFrom(id CoreID, pack uint64) {
	for _, e := range b.edits {
		if e.id == id && e.pack >= pack {
			e.fresh, e.del, e.put.has = true, slotSet{}, slotSet{}
		}
	}
	b.deleted = append(b.deleted, deletedFrom{id, pack})
}

// slotLastLeaf returns the block index of the rightmost leaf of the node
// in slot of pack.
func slotLastLeaf(pack uint64, slot int) uint64 {
	if slot >= packLowSlots {
		return (pack+1)*packLeaves - 1
	}
	depth := uint(0)
	for i := slot; i&1 == 1; i >>= 1 {
		depth++
	}
	return (slotIndex(pack, slot) + 1<<depth - 1) / 2
}

// writePacks puts the batch's pack edits into its Pebble batch, in key
// order, each merged with the stored pack unless it is fresh.
func (b *Batch) writePacks() error {
	if len(b.edits) == 0 {
		return nil
	}
	slices.SortFunc(b.edits, func(x, y *packEdit) int {
		if c := cmp.Compare(x.id, y.id); c != 0 {
			return c
		}
		return cmp.Compare(y.pack, x.pack) // packs are keyed newest first
	})
	var stored []byte
	for _, e := range b.edits {
		b.key = appendPackKey(b.key[:0], e.id, e.pack)
		stored = stored[:0]
		if !e.fresh {
			var err error
			if stored, err = b.storedPack(stored, e, b.key); err != nil {
				return err
			}
		}
		val, all, err := appendMerged(e.val[:0], stored, e.del, &e.put)
		if err != nil {
			return fmt.Errorf("pack %d of core %d: %w", e.pack, e.id, err)
		}
		switch {
		case !all.empty():
			e.val = val
			err = b.b.Set(b.key, val, nil)
		case !e.fresh:
			e.val = nil
			err = b.b.Delete(b.key, nil)
		default:
			e.val = nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// storedPack appends the stored value of e's pack (at key) to dst: nothing
// if none is stored.
func (b *Batch) storedPack(dst []byte, e *packEdit, key []byte) ([]byte, error) {
	if v, ok := b.db.packs.get(dst, packRef{e.id, e.pack}); ok {
		return v, nil
	}
	end, ok := b.db.packs.end(e.id)
	if !ok {
		var err error
		if end, err = b.db.packEnd(e.id); err != nil {
			return dst, err
		}
		b.db.packs.setEnd(e.id, end)
	}
	if e.pack >= end {
		return dst, nil
	}
	v, closer, err := b.db.pdb.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return dst, nil
	}
	if err != nil {
		return dst, err
	}
	dst = append(dst, v...)
	return dst, closer.Close()
}

// packEnd reads one past the newest pack stored for core id (0 for none):
// packs are keyed newest first, so it is the first key of their range.
func (db *DB) packEnd(id CoreID) (uint64, error) {
	lo, hi := packRange(id, 0, ^uint64(0))
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	var end uint64
	if it.First() {
		p, err := indexOf(it.Key())
		if err != nil {
			it.Close()
			return 0, err
		}
		end = ^p + 1
	}
	return end, errors.Join(it.Error(), it.Close())
}

// releasePacks returns the batch's edits to their pool.
func (b *Batch) releasePacks() {
	for i, e := range b.edits {
		packEdits.Put(e)
		b.edits[i] = nil
	}
	b.edits, b.editOf, b.lastEdit, b.deleted = b.edits[:0], nil, nil, nil
}
