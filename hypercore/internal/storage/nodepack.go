package storage

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"

	"github.com/gopear/gopear/hcrypto"
)

// Tree nodes are stored in packs, one key per packLeaves blocks, instead
// of one key per node: an append of n blocks writes about 2n nodes, and
// Pebble's cost of a key (memtable insert, flush, every compaction that
// rewrites it) is most of what storing a 40-byte node costs. Pack p holds
// the nodes whose rightmost leaf (the last block they cover) is one of
// blocks [p*packLeaves, (p+1)*packLeaves): the nodes an append of those
// blocks creates. A pack of an appended range is written whole once its
// last block is appended; the pack at the end of the core is rewritten by
// each append into it.
//
// A pack has packSlots slots. The nodes of depth below packLowDepth lie
// inside the pack's leaves, and slot i holds flat-tree index
// 2*p*packLeaves + i; the nodes of depth d ≥ packLowDepth all end at the
// pack's last leaf, and slot packLowSlots + d - packLowDepth holds the one
// of depth d.
const (
	packLeaves   = 32
	packLowDepth = 5 + 1 // log2(packLeaves) + 1
	packLowSlots = 2*packLeaves - 1
	packSlots    = packLowSlots + 64 - packLowDepth
)

// packHeaderLen is the size of a pack value's slot mask: the low slots
// (bits 0..62 of a uint64 BE) and the high ones (bit d-packLowDepth of a
// second uint64 BE). The nodes of the set slots follow in slot order, each
// size uint64 BE ‖ hash[32].
const packHeaderLen = 16

// packSlot returns the pack and slot of flat-tree index. ok is false for
// an index no tree of fewer than 2^63 blocks has; such a node is never
// stored.
func packSlot(index uint64) (pack uint64, slot int, ok bool) {
	depth := bits.TrailingZeros64(^index)
	if depth >= 63 {
		return 0, 0, false
	}
	span := uint64(1)<<depth - 1
	if index > ^uint64(0)-span {
		return 0, 0, false
	}
	last := (index + span) / 2 // the rightmost leaf's block index
	pack = last / packLeaves
	if depth < packLowDepth {
		return pack, int(index - 2*pack*packLeaves), true
	}
	return pack, packLowSlots + depth - packLowDepth, true
}

// slotIndex is the inverse of packSlot: the flat-tree index in slot of
// pack.
func slotIndex(pack uint64, slot int) uint64 {
	base := 2 * pack * packLeaves
	if slot < packLowSlots {
		return base + uint64(slot)
	}
	depth := slot - packLowSlots + packLowDepth
	// The node of depth d ending at the pack's last leaf, 2*packLeaves-2
	// past base: its flat-tree index is 2^d - 1 before that leaf's.
	return base + 2*packLeaves - 1 - uint64(1)<<depth
}

// slotSet is a set of a pack's slots.
type slotSet struct{ low, high uint64 }

func (s *slotSet) has(slot int) bool {
	if slot < 64 {
		return s.low&(1<<slot) != 0
	}
	return s.high&(1<<(slot-64)) != 0
}

func (s *slotSet) add(slot int) {
	if slot < 64 {
		s.low |= 1 << slot
	} else {
		s.high |= 1 << (slot - 64)
	}
}

func (s *slotSet) remove(slot int) {
	if slot < 64 {
		s.low &^= 1 << slot
	} else {
		s.high &^= 1 << (slot - 64)
	}
}

func (s slotSet) empty() bool { return s.low == 0 && s.high == 0 }

func (s slotSet) count() int { return bits.OnesCount64(s.low) + bits.OnesCount64(s.high) }

// rank returns the number of slots in s before slot.
func (s *slotSet) rank(slot int) int {
	if slot < 64 {
		return bits.OnesCount64(s.low & (1<<slot - 1))
	}
	return bits.OnesCount64(s.low) + bits.OnesCount64(s.high&(1<<(slot-64)-1))
}

// The slot set as stored: the low packLowSlots slots in the first uint64,
// the high slots (depth packLowDepth and up) in the second.
func (s slotSet) stored() (low, high uint64) {
	return s.low & (1<<packLowSlots - 1), s.low>>packLowSlots | s.high<<(64-packLowSlots)
}

func slotSetFromStored(low, high uint64) slotSet {
	return slotSet{low: low | high<<packLowSlots, high: high >> (64 - packLowSlots)}
}

// nodePack is a decoded pack: the nodes of the slots in has.
type nodePack struct {
	has   slotSet
	nodes [packSlots]hcrypto.Node
}

func (np *nodePack) put(slot int, n hcrypto.Node) {
	np.has.add(slot)
	np.nodes[slot] = n
}

// appendTo appends the pack's stored value.
func (np *nodePack) appendTo(dst []byte) []byte {
	dst, _, _ = appendMerged(dst, nil, slotSet{}, np) // no stored value: no error
	return dst
}

// appendMerged appends to dst the value of a pack edited in place: the
// nodes of stored (a stored pack value; empty for none) not in del, and
// those of put. all is the slots of the result.
func appendMerged(dst, stored []byte, del slotSet, put *nodePack) (_ []byte, all slotSet, err error) {
	var old slotSet
	if len(stored) > 0 {
		if old, err = packMask(stored); err != nil {
			return dst, all, err
		}
	}
	has := &put.has
	keep := slotSet{low: old.low &^ del.low &^ has.low, high: old.high &^ del.high &^ has.high}
	all = slotSet{low: keep.low | has.low, high: keep.high | has.high}
	if all.empty() {
		return dst, all, nil
	}
	low, high := all.stored()
	dst = binary.BigEndian.AppendUint64(dst, low)
	dst = binary.BigEndian.AppendUint64(dst, high)
	for w, word := range [2]uint64{all.low, all.high} {
		for word != 0 {
			slot := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if has.has(slot) {
				dst = appendNodeValue(dst, &put.nodes[slot])
				continue
			}
			off := packHeaderLen + old.rank(slot)*nodeValueLen
			dst = append(dst, stored[off:off+nodeValueLen]...)
		}
	}
	return dst, all, nil
}

// nodePacks holds decoded packs for the reads that decode whole packs.
var nodePacks = sync.Pool{New: func() any { return new(nodePack) }}

// packMask checks the length of a stored pack value and returns its slot
// set.
func packMask(v []byte) (slotSet, error) {
	if len(v) < packHeaderLen {
		return slotSet{}, corruptPack
	}
	low, high := binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
	if low>>packLowSlots != 0 || high>>(packSlots-packLowSlots) != 0 {
		return slotSet{}, corruptPack
	}
	s := slotSetFromStored(low, high)
	if len(v) != packHeaderLen+s.count()*nodeValueLen {
		return slotSet{}, corruptPack
	}
	return s, nil
}

// packNode returns the node of slot (flat-tree index index) from the
// stored pack value v; ok is false when the pack does not hold it.
func packNode(v []byte, slot int, index uint64) (n hcrypto.Node, ok bool, err error) {
	s, err := packMask(v)
	if err != nil || !s.has(slot) {
		return n, false, err
	}
	off := packHeaderLen + s.rank(slot)*nodeValueLen
	n, err = decodeNodeValue(index, v[off:off+nodeValueLen])
	return n, err == nil, err
}

// decodePack decodes the stored pack value v of pack into np.
func decodePack(np *nodePack, pack uint64, v []byte) error {
	s, err := packMask(v)
	if err != nil {
		return err
	}
	np.has = s
	off := packHeaderLen
	for slot := range packSlots {
		if s.has(slot) {
			n, err := decodeNodeValue(slotIndex(pack, slot), v[off:off+nodeValueLen])
			if err != nil {
				return err
			}
			np.nodes[slot] = n
			off += nodeValueLen
		}
	}
	return nil
}

// corruptPack is preallocated: the node read path does not allocate.
var corruptPack = fmt.Errorf("%w: tree node pack does not match its slot mask", ErrCorrupt)
