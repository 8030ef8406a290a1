package storage

import (
	"encoding/binary"
	"sync"
)

// formatVersion is the version of the key layout and records described in
// the package doc.
const formatVersion = 2

// Key families (first byte).
const (
	famMeta    = 0x00
	famDKey    = 0x01
	famAlias   = 0x02
	famCore    = 0x03
	famCoreEnd = 0x04
)

// Meta keys (second byte under famMeta).
const (
	metaVersion = 0x00
	metaPrimary = 0x01
	metaNextID  = 0x02
	// metaRawBlocks marks a database migrated from format version 1,
	// whose block values are the blocks themselves, without a tag.
	metaRawBlocks = 0x03
)

// Per-core kinds (byte after the core id). The head comes after the
// blocks, and the tree node packs after it, newest first, so that the
// keys an append writes span none of the core's older blocks and packs,
// only its bitfield pages and user data (see the package doc).
const (
	kindHeader   = 0x00
	kindBlock    = 0x02
	kindBitfield = 0x04
	kindUserData = 0x05
	kindHead     = 0x06
	kindPack     = 0x07

	// Kinds of format version 1, which Open migrates.
	kindHeadV1 = 0x01
	kindNodeV1 = 0x03
)

const (
	corePrefixLen = 1 + 8     // famCore ‖ id
	kindKeyLen    = 1 + 8 + 1 // famCore ‖ id ‖ kind
	indexKeyLen   = kindKeyLen + 8
	nodeValueLen  = 8 + 32
)

var (
	keyVersion   = []byte{famMeta, metaVersion}
	keyPrimary   = []byte{famMeta, metaPrimary}
	keyNextID    = []byte{famMeta, metaNextID}
	keyRawBlocks = []byte{famMeta, metaRawBlocks}
)

// keyBuf is a pooled buffer for the fixed-size keys of the read path, so
// that point reads do not allocate: a key handed to Pebble through its
// Reader interface escapes to the heap.
type keyBuf [indexKeyLen]byte

var keyBufs = sync.Pool{New: func() any { return new(keyBuf) }}

func getKeyBuf() *keyBuf  { return keyBufs.Get().(*keyBuf) }
func putKeyBuf(k *keyBuf) { keyBufs.Put(k) }

// appendKindKey appends famCore ‖ id ‖ kind.
func appendKindKey(dst []byte, id CoreID, kind byte) []byte {
	dst = append(dst, famCore)
	dst = binary.BigEndian.AppendUint64(dst, uint64(id))
	return append(dst, kind)
}

// appendIndexKey appends famCore ‖ id ‖ kind ‖ i.
func appendIndexKey(dst []byte, id CoreID, kind byte, i uint64) []byte {
	return binary.BigEndian.AppendUint64(appendKindKey(dst, id, kind), i)
}

// indexKey fills k with famCore ‖ id ‖ kind ‖ i and returns it as a slice.
func (k *keyBuf) index(id CoreID, kind byte, i uint64) []byte {
	k[0] = famCore
	binary.BigEndian.PutUint64(k[1:9], uint64(id))
	k[9] = kind
	binary.BigEndian.PutUint64(k[10:18], i)
	return k[:indexKeyLen]
}

// kind fills k with famCore ‖ id ‖ kind.
func (k *keyBuf) kind(id CoreID, kind byte) []byte {
	k[0] = famCore
	binary.BigEndian.PutUint64(k[1:9], uint64(id))
	k[9] = kind
	return k[:kindKeyLen]
}

// indexRange returns the keys bounding indexes [start, end) of kind; an end
// of ^uint64(0) reaches to the end of the kind, so the last index is
// covered too.
func indexRange(id CoreID, kind byte, start, end uint64) (lo, hi []byte) {
	lo = appendIndexKey(nil, id, kind, start)
	if end == ^uint64(0) {
		hi = appendKindKey(nil, id, kind+1)
	} else {
		hi = appendIndexKey(nil, id, kind, end)
	}
	return lo, hi
}

// appendPackKey appends the key of tree node pack p of core id: packs are keyed
// by ^p, so that the newest sort first.
func appendPackKey(dst []byte, id CoreID, p uint64) []byte {
	return appendIndexKey(dst, id, kindPack, ^p)
}

// packRange returns the keys bounding packs [first, end) of core id; an
// end of ^uint64(0) reaches to the last pack.
func packRange(id CoreID, first, end uint64) (lo, hi []byte) {
	if end == ^uint64(0) {
		lo = appendKindKey(nil, id, kindPack)
	} else {
		lo = appendPackKey(nil, id, end-1)
	}
	if first == 0 {
		hi = appendKindKey(nil, id, kindPack+1)
	} else {
		hi = appendPackKey(nil, id, first-1)
	}
	return lo, hi
}

// coreRange returns the keys bounding every key of core id.
func coreRange(id CoreID) (lo, hi []byte) {
	lo = binary.BigEndian.AppendUint64([]byte{famCore}, uint64(id))
	if id == ^CoreID(0) {
		return lo, []byte{famCoreEnd}
	}
	hi = binary.BigEndian.AppendUint64([]byte{famCore}, uint64(id)+1)
	return lo, hi
}

func dkeyKey(dst []byte, dk *[32]byte) []byte {
	dst = append(dst, famDKey)
	return append(dst, dk[:]...)
}

func aliasKey(dst []byte, namespace *[32]byte, name string) []byte {
	dst = append(dst, famAlias)
	dst = append(dst, namespace[:]...)
	return append(dst, name...)
}

// prefixEnd returns the smallest key greater than every key with prefix p
// (p must not be all 0xff).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
