package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
)

// Batch collects writes to any number of cores and applies them atomically
// with Commit: after a crash either all of them are in the DB or none is.
// Writes are not visible to readers before Commit, and the batch does not
// see its own writes. The methods keep the first error (a bad argument, a
// closed DB) and Commit returns it, so a sequence of puts checks one error
// at the end. Every method copies its arguments. A Batch is not safe for
// concurrent use; Close (or Commit) must be called to release it.
type Batch struct {
	db  *DB
	b   *pebble.Batch
	err error
	key []byte // scratch for keys
	val []byte // scratch for encoded records

	// The scratch slices start in these, so that a batch of fixed-size
	// keys and small records (an append) allocates none.
	keyArr [indexKeyLen]byte
	valArr [160]byte

	failed bool // Commit failed in Pebble: the batch is not reused

	// The batch's node writes, by pack (packedit.go).
	edits    []*packEdit
	editOf   map[packRef]*packEdit
	lastEdit *packEdit
	deleted  []deletedFrom
}

func (b *Batch) ok() bool {
	if b.err == nil && b.b == nil {
		b.err = ErrClosed
	}
	return b.err == nil
}

func (b *Batch) set(key, value []byte) {
	if err := b.b.Set(key, value, nil); err != nil && b.err == nil {
		b.err = fmt.Errorf("storage: batch: %w", err)
	}
}

func (b *Batch) del(key []byte) {
	if err := b.b.Delete(key, nil); err != nil && b.err == nil {
		b.err = fmt.Errorf("storage: batch: %w", err)
	}
}

func (b *Batch) delRange(lo, hi []byte) {
	if err := b.b.DeleteRange(lo, hi, nil); err != nil && b.err == nil {
		b.err = fmt.Errorf("storage: batch: %w", err)
	}
}

// SetHeader rewrites the header of core id (for example once its manifest
// is known). h.DiscoveryKey must be the core's.
func (b *Batch) SetHeader(id CoreID, h *Header) {
	if !b.ok() {
		return
	}
	b.key = appendKindKey(b.key[:0], id, kindHeader)
	b.val = appendHeader(b.val[:0], h)
	b.set(b.key, b.val)
}

// SetHead sets the head of core id.
func (b *Batch) SetHead(id CoreID, h *Head) {
	if !b.ok() {
		return
	}
	b.key = appendKindKey(b.key[:0], id, kindHead)
	b.val = appendHead(b.val[:0], h)
	b.set(b.key, b.val)
}

// DeleteHead removes the head of core id (back to an empty core).
func (b *Batch) DeleteHead(id CoreID) {
	if !b.ok() {
		return
	}
	b.key = appendKindKey(b.key[:0], id, kindHead)
	b.del(b.key)
}

// PutBlock stores block index of core id.
func (b *Batch) PutBlock(id CoreID, index uint64, data []byte) {
	if !b.ok() {
		return
	}
	b.key = appendIndexKey(b.key[:0], id, kindBlock, index)
	if b.db.rawBlocks {
		b.set(b.key, data)
		return
	}
	b.val = appendBlockValue(b.val[:0], data)
	b.set(b.key, b.val)
}

// DeleteBlock removes block index of core id (a cleared block).
func (b *Batch) DeleteBlock(id CoreID, index uint64) {
	if !b.ok() {
		return
	}
	b.key = appendIndexKey(b.key[:0], id, kindBlock, index)
	b.del(b.key)
}

// DeleteBlockRange removes blocks [start, end) of core id, as clear and
// truncate do; an end of math.MaxUint64 removes every block from start on.
func (b *Batch) DeleteBlockRange(id CoreID, start, end uint64) {
	b.deleteIndexRange(id, kindBlock, start, end)
}

func (b *Batch) deleteIndexRange(id CoreID, kind byte, start, end uint64) {
	if !b.ok() || end <= start {
		return
	}
	lo, hi := indexRange(id, kind, start, end)
	b.delRange(lo, hi)
}

// PutBitfieldPage stores bitfield page n of core id; page must be
// [bitfield.BytesPerPage] bytes (bitfield.Bitfield.AppendPage).
func (b *Batch) PutBitfieldPage(id CoreID, n uint64, page []byte) {
	if !b.ok() {
		return
	}
	if len(page) != bitfield.BytesPerPage {
		b.err = fmt.Errorf("storage: bitfield page %d is %d bytes, want %d", n, len(page), bitfield.BytesPerPage)
		return
	}
	b.key = appendIndexKey(b.key[:0], id, kindBitfield, n)
	b.set(b.key, page)
}

// DeleteBitfieldPageRange removes bitfield pages [start, end) of core id;
// an end of math.MaxUint64 removes every page from start on.
func (b *Batch) DeleteBitfieldPageRange(id CoreID, start, end uint64) {
	b.deleteIndexRange(id, kindBitfield, start, end)
}

// PutUserData sets the user data value for key on core id.
func (b *Batch) PutUserData(id CoreID, key string, value []byte) {
	if !b.ok() {
		return
	}
	b.key = appendUserDataKey(b.key[:0], id, key)
	b.set(b.key, value)
}

// DeleteUserData removes the user data value for key on core id.
func (b *Batch) DeleteUserData(id CoreID, key string) {
	if !b.ok() {
		return
	}
	b.key = appendUserDataKey(b.key[:0], id, key)
	b.del(b.key)
}

// PutAlias makes (namespace, name) point to core id (corestore's named
// cores); DB.FindAlias reads it.
func (b *Batch) PutAlias(namespace [32]byte, name string, id CoreID) {
	if !b.ok() {
		return
	}
	b.key = aliasKey(b.key[:0], &namespace, name)
	b.val = binary.BigEndian.AppendUint64(b.val[:0], uint64(id))
	b.set(b.key, b.val)
}

// DeleteAlias removes an alias.
func (b *Batch) DeleteAlias(namespace [32]byte, name string) {
	if !b.ok() {
		return
	}
	b.key = aliasKey(b.key[:0], &namespace, name)
	b.del(b.key)
}

// DeleteCore removes core c and everything stored under its id, and its
// entry in the discovery key index, as part of the batch. Aliases that
// point to it are left dangling (FindAlias reads them as ErrNotFound);
// [DB.DeleteCores] removes those too, and is what a purge uses.
func (b *Batch) DeleteCore(c *Core) {
	if !b.ok() {
		return
	}
	lo, hi := coreRange(c.id)
	b.delRange(lo, hi)
	b.deletePacksFrom(c.id, 0)
	b.key = dkeyKey(b.key[:0], &c.dk)
	b.del(b.key)
}

// Len returns the size of the batch's encoded writes, in bytes, not
// counting tree nodes (which are encoded at Commit).
func (b *Batch) Len() int {
	if b.b == nil {
		return 0
	}
	return b.b.Len()
}

// Commit applies the batch atomically (synced to disk unless the DB was
// opened with NoSync) and releases it. It returns the first error of the
// batch's methods without applying anything. After Commit the batch is
// closed.
func (b *Batch) Commit() error {
	if !b.ok() {
		b.Close()
		return b.err
	}
	defer b.Close()
	if !b.db.acquire() {
		b.err = ErrClosed
		return b.err
	}
	defer b.db.release()
	if err := b.writePacks(); err != nil {
		b.err = fmt.Errorf("storage: commit: %w", err)
		return b.err
	}
	if err := b.b.Commit(b.db.write); err != nil {
		b.err = fmt.Errorf("storage: commit: %w", err)
		b.failed = true
		return b.err
	}
	b.db.packs.update(b.edits, b.deleted)
	b.err = ErrClosed // a second Commit fails
	return nil
}

// Close releases the batch without applying it. It is idempotent and a
// no-op after Commit.
func (b *Batch) Close() error {
	if b.b != nil {
		if b.failed {
			b.b.Close() // Pebble may still hold it
		} else {
			var val []byte
			if cap(b.val) > len(b.valArr) {
				val = b.val
			}
			b.db.recycleBatch(b.b, val)
		}
		b.b = nil
	}
	b.releasePacks()
	if b.err == nil {
		b.err = ErrClosed
	}
	return nil
}
