package storage

import "sync"

// packCache keeps the stored value of the packs batches wrote last, so
// that a batch that adds nodes to a pack (an append, to the pack at the
// end of its core) does not read it back from Pebble first. Every pack
// write goes through Batch.writePacks, which updates the cache once its
// batch committed, and every deletion of packs drops them, so an entry
// is always what the database holds.
type packCache struct {
	mu      sync.Mutex
	entries map[packRef][]byte
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
}
