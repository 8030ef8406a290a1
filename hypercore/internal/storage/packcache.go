package storage

import "sync"

// packCache keeps the stored value of the packs batches wrote last, so
// that a batch that adds nodes to a pack (an append, to the pack at the
// end of its core) does not read it back from Pebble first. It also keeps,
// for the cores it was asked about, a bound past which no pack is stored,
// so that the packs an append starts are not looked up at all (a lookup
// of a key that is nowhere consults every level). Every pack write goes
// through Batch.writePacks, which updates the cache once its batch
// committed, and every deletion of packs drops them, so an entry is
// always what the database holds.
type packCache struct {
	mu      sync.Mutex
	entries map[packRef][]byte
	// ends holds, per core, a pack number from which on no pack is
	// stored (deletions leave it, an upper bound, as it is).
	ends map[CoreID]uint64
}

// packCacheMax bounds the cache: past it, it starts over. A core being
// appended to has one hot pack at a time; a replicating reader a few.
const packCacheMax = 64

// get appends the cached value of ref to dst; ok is false when ref is not
// cached.
func (pc *packCache) get(dst []byte, ref packRef) (v []byte, ok bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	c, ok := pc.entries[ref]
	if !ok {
		return dst, false
	}
	return append(dst, c...), true
}

// end returns the bound of core id's packs, ok false if not known.
func (pc *packCache) end(id CoreID) (end uint64, ok bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	end, ok = pc.ends[id]
	return end, ok
}

// setEnd records the bound of core id's packs, as read from the database.
func (pc *packCache) setEnd(id CoreID, end uint64) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.ends == nil {
		pc.ends = make(map[CoreID]uint64)
	}
	if cur, ok := pc.ends[id]; !ok || end > cur {
		pc.ends[id] = end
	}
}

// update records what a committed batch did to packs: edits wrote val
// (nil for a deleted pack), and deleted range-deleted packs.
func (pc *packCache) update(edits []*packEdit, deleted []deletedFrom) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, d := range deleted {
		for ref := range pc.entries {
			if ref.id == d.id && ref.pack >= d.pack {
				delete(pc.entries, ref)
			}
		}
	}
	for _, e := range edits {
		ref := packRef{e.id, e.pack}
		if end, ok := pc.ends[e.id]; ok && e.val != nil && e.pack >= end {
			pc.ends[e.id] = e.pack + 1
		}
		if e.val == nil {
			delete(pc.entries, ref)
			continue
		}
		if pc.entries == nil || len(pc.entries) >= packCacheMax {
			pc.entries = make(map[packRef][]byte)
		}
		pc.entries[ref] = append(pc.entries[ref][:0], e.val...)
	}
}

// dropCores forgets the packs of deleted cores.
func (pc *packCache) dropCores(ids map[CoreID]bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for ref := range pc.entries {
		if ids[ref.id] {
			delete(pc.entries, ref)
		}
	}
	for id := range ids {
		delete(pc.ends, id)
	}
}
