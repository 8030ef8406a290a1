// Package bitfield is the local block bitfield of a hypercore: bit i is set
// when block i is stored locally. It matches hypercore 11 lib/bitfield.js in
// what it persists and sends, not in how it is built.
//
// # Geometry and exported forms
//
// Bits live in pages of [BitsPerPage] (32768) bits. A page exports as
// [BytesPerPage] (4096) bytes, which are 1024 little-endian uint32 words:
// bit j of word w is block page*32768 + 32w + j, and equivalently bit b of
// byte k is block page*32768 + 8k + b. This is the page JS stores per core
// (hypercore-storage putBitfieldPage) and the word order of the bitfield
// wire message (PROTOCOLS.md 5.5: bit j of word w is block start+32w+j), so
// [Bitfield.AppendPage], [Bitfield.ImportPage], [Bitfield.AppendWords] and
// [Bitfield.InsertWords] are plain copies. Pages that were never set are
// absent and read as zero; JS groups pages in segments of
// [BitsPerSegment] bits, which only matters to the wire (one bitfield
// message per segment).
//
// # Speed
//
// Pages hold 64-bit words plus two one-bit-per-word summaries (non-zero
// words, full words), so finding the next set or unset bit skips 4096 bits
// per summary word; searches across pages skip absent, empty and full pages
// by their population count. The contiguous length (the first unset bit) is
// kept up to date on every change.
//
// # Concurrency
//
// A Bitfield is not safe for concurrent use; its owner (the core) guards it.
package bitfield

import (
	"encoding/binary"
	"errors"
	"iter"
	"math"
)

var (
	// ErrPageSize is returned by [Bitfield.ImportPage] for a page that is not
	// exactly [BytesPerPage] bytes.
	ErrPageSize = errors.New("bitfield: page is not 4096 bytes")
	// ErrUnaligned is returned by the word operations for a start that is
	// not a multiple of 32.
	ErrUnaligned = errors.New("bitfield: start is not a multiple of 32")
	// ErrRange is returned when an operation would reach past the last
	// addressable bit (2^64-1).
	ErrRange = errors.New("bitfield: range overflows")
)

// maxPage is the number of the last page: bit 2^64-1 is in it.
const maxPage = math.MaxUint64 >> pageShift

// Bitfield is a sparse set of block indexes. The zero value is an empty
// bitfield, ready to use.
type Bitfield struct {
	pages  []*page // sorted by index, no duplicates
	contig uint64  // first unset bit
}

// New returns an empty bitfield.
func New() *Bitfield { return new(Bitfield) }

// Range is the half-open interval [Start, End) of block indexes.
type Range struct {
	Start, End uint64
}

// search returns the position of the first page whose index is >= n.
func (b *Bitfield) search(n uint64) int {
	// Fast path for the dense case, where page n sits at position n.
	if n < uint64(len(b.pages)) && b.pages[n].index == n {
		return int(n)
	}
	lo, hi := 0, len(b.pages)
	if n < uint64(hi) {
		hi = int(n) // pages[k].index >= k, so page n is at or before n
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.pages[m].index < n {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// page returns page n, or nil.
func (b *Bitfield) page(n uint64) *page {
	k := b.search(n)
	if k < len(b.pages) && b.pages[k].index == n {
		return b.pages[k]
	}
	return nil
}

// pageAt returns page n and its position, creating it if needed.
func (b *Bitfield) ensure(n uint64, k int) *page {
	if k < len(b.pages) && b.pages[k].index == n {
		return b.pages[k]
	}
	p := &page{index: n}
	b.pages = append(b.pages, nil)
	copy(b.pages[k+1:], b.pages[k:])
	b.pages[k] = p
	return p
}

// Get reports whether bit i is set.
func (b *Bitfield) Get(i uint64) bool {
	p := b.page(i >> pageShift)
	return p != nil && p.get(int(i&pageMask))
}

// Set sets bit i to v.
func (b *Bitfield) Set(i uint64, v bool) {
	n := i >> pageShift
	k := b.search(n)
	var p *page
	if k < len(b.pages) && b.pages[k].index == n {
		p = b.pages[k]
	} else if v {
		p = b.ensure(n, k)
	} else {
		return
	}
	if !p.set(int(i&pageMask), v) {
		return
	}
	if v {
		if i == b.contig {
			b.contig = b.firstUnsetFrom(i)
		}
	} else if i < b.contig {
		b.contig = i
	}
}

// SetRange sets bits [start, end) to v. It does nothing when end <= start.
func (b *Bitfield) SetRange(start, end uint64, v bool) {
	if end <= start {
		return
	}
	last := (end - 1) >> pageShift
	n := start >> pageShift
	k := b.search(n)
	for n <= last {
		if !v {
			// Clearing: visit only pages that exist.
			if k >= len(b.pages) || b.pages[k].index > last {
				break
			}
			n = max(n, b.pages[k].index)
		}
		p := b.ensure(n, k)
		lo, hi := 0, BitsPerPage
		if n == start>>pageShift {
			lo = int(start & pageMask)
		}
		if n == last {
			hi = int((end-1)&pageMask) + 1
		}
		p.setRange(lo, hi, v)
		k++
		if n == maxPage {
			break
		}
		n++
	}
	if v {
		if start <= b.contig && b.contig < end {
			b.contig = b.firstUnsetFrom(end)
		}
	} else if start < b.contig {
		b.contig = start
	}
}

// ContiguousLength returns the number of set bits before the first unset
// one: blocks [0, ContiguousLength()) are all present.
func (b *Bitfield) ContiguousLength() uint64 { return b.contig }

// firstUnsetFrom is FindFirst(false, i) for callers that know an unset bit
// exists at or after i (it returns 2^64-1 if not, which cannot be set
// anyway in a real core).
func (b *Bitfield) firstUnsetFrom(i uint64) uint64 {
	r, ok := b.FindFirst(false, i)
	if !ok {
		return math.MaxUint64
	}
	return r
}

// FindFirst returns the first index >= pos whose bit is v. ok is false
// when there is none.
func (b *Bitfield) FindFirst(v bool, pos uint64) (index uint64, ok bool) {
	n := pos >> pageShift
	off := int(pos & pageMask)
	k := b.search(n)
	for {
		if k >= len(b.pages) {
			if v {
				return 0, false
			}
			return n<<pageShift | uint64(off), true
		}
		p := b.pages[k]
		if v {
			if p.index != n {
				n, off = p.index, 0
			}
			if p.count > 0 {
				if r := p.findFirst(true, off); r >= 0 {
					return n<<pageShift | uint64(r), true
				}
			}
		} else {
			if p.index != n {
				return n<<pageShift | uint64(off), true // absent page: all zero
			}
			if p.count < BitsPerPage {
				if r := p.findFirst(false, off); r >= 0 {
					return n<<pageShift | uint64(r), true
				}
			}
		}
		if n == maxPage {
			return 0, false
		}
		n, off, k = n+1, 0, k+1
	}
}

// FindLast returns the last index <= pos whose bit is v. ok is false when
// there is none.
func (b *Bitfield) FindLast(v bool, pos uint64) (index uint64, ok bool) {
	n := pos >> pageShift
	off := int(pos & pageMask)
	k := b.search(n)
	if k == len(b.pages) || b.pages[k].index != n {
		k-- // last page before n, or -1
	}
	for {
		if k < 0 {
			if v {
				return 0, false
			}
			return n<<pageShift | uint64(off), true
		}
		p := b.pages[k]
		if v {
			if p.index != n {
				n, off = p.index, BitsPerPage-1
			}
			if p.count > 0 {
				if r := p.findLast(true, off); r >= 0 {
					return n<<pageShift | uint64(r), true
				}
			}
		} else {
			if p.index != n {
				return n<<pageShift | uint64(off), true
			}
			if p.count < BitsPerPage {
				if r := p.findLast(false, off); r >= 0 {
					return n<<pageShift | uint64(r), true
				}
			}
		}
		if n == 0 {
			return 0, false
		}
		n, off, k = n-1, BitsPerPage-1, k-1
	}
}

// FirstSet is FindFirst(true, pos).
func (b *Bitfield) FirstSet(pos uint64) (uint64, bool) { return b.FindFirst(true, pos) }

// FirstUnset is FindFirst(false, pos).
func (b *Bitfield) FirstUnset(pos uint64) (uint64, bool) { return b.FindFirst(false, pos) }

// LastSet is FindLast(true, pos).
func (b *Bitfield) LastSet(pos uint64) (uint64, bool) { return b.FindLast(true, pos) }

// LastUnset is FindLast(false, pos).
func (b *Bitfield) LastUnset(pos uint64) (uint64, bool) { return b.FindLast(false, pos) }

// HasSet reports whether any bit in [start, end) is set.
func (b *Bitfield) HasSet(start, end uint64) bool {
	if end <= start {
		return false
	}
	i, ok := b.FindFirst(true, start)
	return ok && i < end
}

// HasUnset reports whether any bit in [start, end) is unset.
func (b *Bitfield) HasUnset(start, end uint64) bool {
	if end <= start {
		return false
	}
	i, ok := b.FindFirst(false, start)
	return ok && i < end
}

// CountSet returns the number of set bits in [start, end).
func (b *Bitfield) CountSet(start, end uint64) uint64 {
	if end <= start {
		return 0
	}
	last := (end - 1) >> pageShift
	var c uint64
	for k := b.search(start >> pageShift); k < len(b.pages) && b.pages[k].index <= last; k++ {
		p := b.pages[k]
		lo, hi := 0, BitsPerPage
		if p.index == start>>pageShift {
			lo = int(start & pageMask)
		}
		if p.index == last {
			hi = int((end-1)&pageMask) + 1
		}
		c += uint64(p.countRange(lo, hi))
	}
	return c
}

// CountUnset returns the number of unset bits in [start, end).
func (b *Bitfield) CountUnset(start, end uint64) uint64 {
	if end <= start {
		return 0
	}
	return end - start - b.CountSet(start, end)
}

// Ranges yields the maximal runs of set bits that start at or after from,
// in order. A run that begins before from is yielded from from on. The
// bitfield must not be changed during the iteration.
func (b *Bitfield) Ranges(from uint64) iter.Seq[Range] {
	return func(yield func(Range) bool) {
		for {
			s, ok := b.FindFirst(true, from)
			if !ok {
				return
			}
			e, ok := b.FindFirst(false, s)
			if !ok {
				e = math.MaxUint64 // only bit 2^64-1 can be missing from a run to the end
			}
			if !yield(Range{s, e}) || !ok {
				return
			}
			from = e
		}
	}
}

// Pages yields the numbers of the pages that hold at least one set bit, in
// order: the pages worth persisting.
func (b *Bitfield) Pages() iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		for _, p := range b.pages {
			if p.count > 0 && !yield(p.index) {
				return
			}
		}
	}
}

// PageOf returns the number of the page that holds bit i.
func PageOf(i uint64) uint64 { return i >> pageShift }

// AppendPage appends the [BytesPerPage] bytes of page n to dst (zeros for
// an absent page).
func (b *Bitfield) AppendPage(dst []byte, n uint64) []byte {
	p := b.page(n)
	if p == nil {
		return append(dst, make([]byte, BytesPerPage)...)
	}
	for _, w := range p.w {
		dst = binary.LittleEndian.AppendUint64(dst, w)
	}
	return dst
}

// ImportPage replaces page n with the [BytesPerPage] bytes in src (the form
// [Bitfield.AppendPage] writes). src is not retained.
func (b *Bitfield) ImportPage(n uint64, src []byte) error {
	if len(src) != BytesPerPage {
		return ErrPageSize
	}
	if n > maxPage {
		return ErrRange
	}
	k := b.search(n)
	p := b.ensure(n, k)
	for i := range p.w {
		p.w[i] = binary.LittleEndian.Uint64(src[8*i:])
	}
	p.rebuild()
	b.afterOverwrite(n << pageShift)
	return nil
}

// afterOverwrite fixes the contiguous length after bits from a on changed
// arbitrarily.
func (b *Bitfield) afterOverwrite(a uint64) {
	if b.contig >= a {
		b.contig = b.firstUnsetFrom(a)
	}
}

// AppendWords appends count 32-bit words covering bits [start,
// start+32*count) to dst: bit j of word w is bit start+32w+j, the layout of
// the bitfield wire message. start must be a multiple of 32.
func (b *Bitfield) AppendWords(dst []uint32, start uint64, count int) ([]uint32, error) {
	if start&31 != 0 {
		return dst, ErrUnaligned
	}
	if count < 0 || uint64(count) > (math.MaxUint64-start)/32+1 {
		return dst, ErrRange
	}
	for count > 0 {
		n := start >> pageShift
		wi := int(start&pageMask) >> 5 // uint32 word within the page
		take := min(count, WordsPerPage-wi)
		if p := b.page(n); p != nil {
			for j := wi; j < wi+take; j++ {
				dst = append(dst, uint32(p.w[j>>1]>>(32*uint(j&1))))
			}
		} else {
			for range take {
				dst = append(dst, 0)
			}
		}
		count -= take
		start += uint64(take) * 32
	}
	return dst, nil
}

// InsertWords overwrites bits [start, start+32*len(words)) with words (bit
// j of words[w] is bit start+32w+j), as a received bitfield message does
// (hypercore lib/remote-bitfield.js insert). start must be a multiple of 32.
func (b *Bitfield) InsertWords(start uint64, words []uint32) error {
	if start&31 != 0 {
		return ErrUnaligned
	}
	if len(words) == 0 {
		return nil
	}
	if uint64(len(words)-1) > (math.MaxUint64-start)/32 {
		return ErrRange
	}
	first := start
	for len(words) > 0 {
		n := start >> pageShift
		wi := int(start&pageMask) >> 5
		take := min(len(words), WordsPerPage-wi)
		k := b.search(n)
		var p *page
		if k < len(b.pages) && b.pages[k].index == n {
			p = b.pages[k]
		} else if anyNonZero(words[:take]) {
			p = b.ensure(n, k)
		}
		if p != nil {
			for j, w := range words[:take] {
				x := wi + j
				k64, sh := x>>1, 32*uint(x&1)
				old := p.w[k64]
				p.w[k64] = old&^(0xffffffff<<sh) | uint64(w)<<sh
				if p.w[k64] != old {
					p.fix(k64, old)
				}
			}
		}
		words = words[take:]
		start += uint64(take) * 32
	}
	b.afterOverwrite(first)
	return nil
}

func anyNonZero(ws []uint32) bool {
	for _, w := range ws {
		if w != 0 {
			return true
		}
	}
	return false
}

// FillPage sets bits [start, end) to v in buf, the exported bytes of page n
// ([BytesPerPage] long); bits of the range outside page n are ignored. It
// lets a writer build the page it will persist before changing the
// in-memory bitfield, so the bitfield changes only once the write has
// committed.
func FillPage(buf []byte, n, start, end uint64, v bool) error {
	if len(buf) != BytesPerPage {
		return ErrPageSize
	}
	lo, hi := n<<pageShift, n<<pageShift+(BitsPerPage-1) // inclusive
	if end <= start || end-1 < lo || start > hi {
		return nil
	}
	s, e := max(start, lo)-lo, min(end-1, hi)-lo+1 // in-page [s, e)
	for i := s; i < e; {
		byteI := i >> 3
		if i&7 == 0 && e-i >= 8 {
			// Whole bytes.
			m := (e - i) >> 3
			fill := byte(0)
			if v {
				fill = 0xff
			}
			for j := byteI; j < byteI+m; j++ {
				buf[j] = fill
			}
			i += m << 3
			continue
		}
		if v {
			buf[byteI] |= 1 << (i & 7)
		} else {
			buf[byteI] &^= 1 << (i & 7)
		}
		i++
	}
	return nil
}
