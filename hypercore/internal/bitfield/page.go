package bitfield

import "math/bits"

// Page geometry, as hypercore 11 lib/bitfield.js fixes it. A page is the
// unit of persistence; a segment is the unit of the bitfield wire message.
const (
	// BitsPerPage is the number of blocks one page covers.
	BitsPerPage = 32768
	// BytesPerPage is the size of an exported page.
	BytesPerPage = BitsPerPage / 8
	// WordsPerPage is the number of 32-bit words in a page.
	WordsPerPage = BytesPerPage / 4
	// BitsPerSegment is the number of blocks one segment covers; JS sends at
	// most one bitfield message per segment.
	BitsPerSegment = 2097152
	// WordsPerSegment is the number of 32-bit words in a segment.
	WordsPerSegment = BitsPerSegment / 32
	// PagesPerSegment is the number of pages in a segment.
	PagesPerSegment = BitsPerSegment / BitsPerPage
)

const (
	pageShift   = 15 // log2(BitsPerPage)
	pageMask    = BitsPerPage - 1
	wordsInPage = BitsPerPage / 64 // uint64 words
	sumWords    = wordsInPage / 64 // uint64 words in each summary
)

// page holds BitsPerPage bits in 64-bit words. Bit j of w[k] is bit 64k+j of
// the page, which is exactly the little-endian byte and uint32-word order of
// the exported form. Two summaries, one bit per word, let searches skip
// empty and full words 64 at a time:
//
//	nz[s] bit t   <=> w[64s+t] != 0
//	full[s] bit t <=> w[64s+t] == all ones
type page struct {
	index uint64 // page number: the page covers bits [index<<15, (index+1)<<15)
	count int    // number of set bits
	w     [wordsInPage]uint64
	nz    [sumWords]uint64
	full  [sumWords]uint64
}

// fix refreshes the summaries of word k after it changed from old.
func (p *page) fix(k int, old uint64) {
	nw := p.w[k]
	p.count += bits.OnesCount64(nw) - bits.OnesCount64(old)
	s, t := k>>6, uint(k&63)
	if nw != 0 {
		p.nz[s] |= 1 << t
	} else {
		p.nz[s] &^= 1 << t
	}
	if nw == ^uint64(0) {
		p.full[s] |= 1 << t
	} else {
		p.full[s] &^= 1 << t
	}
}

// rebuild recomputes count and summaries from the words.
func (p *page) rebuild() {
	p.count = 0
	p.nz = [sumWords]uint64{}
	p.full = [sumWords]uint64{}
	for k, w := range p.w {
		p.count += bits.OnesCount64(w)
		if w != 0 {
			p.nz[k>>6] |= 1 << uint(k&63)
		}
		if w == ^uint64(0) {
			p.full[k>>6] |= 1 << uint(k&63)
		}
	}
}

func (p *page) get(i int) bool {
	return p.w[i>>6]&(1<<uint(i&63)) != 0
}

// set sets bit i to v and reports whether it changed.
func (p *page) set(i int, v bool) bool {
	k := i >> 6
	old := p.w[k]
	if v {
		p.w[k] = old | 1<<uint(i&63)
	} else {
		p.w[k] = old &^ (1 << uint(i&63))
	}
	if p.w[k] == old {
		return false
	}
	p.fix(k, old)
	return true
}

// rangeMask returns the mask of bits [lo, hi) of one word, 0 <= lo < hi <= 64.
func rangeMask(lo, hi int) uint64 {
	m := ^uint64(0) << uint(lo)
	if hi < 64 {
		m &= (1 << uint(hi)) - 1
	}
	return m
}

// setRange sets bits [start, end) of the page to v, 0 <= start < end <= BitsPerPage.
func (p *page) setRange(start, end int, v bool) {
	for k := start >> 6; k<<6 < end; k++ {
		lo, hi := max(start-k<<6, 0), min(end-k<<6, 64)
		m := rangeMask(lo, hi)
		old := p.w[k]
		if v {
			p.w[k] = old | m
		} else {
			p.w[k] = old &^ m
		}
		if p.w[k] != old {
			p.fix(k, old)
		}
	}
}

// count returns the number of set bits in [start, end).
func (p *page) countRange(start, end int) int {
	if start == 0 && end == BitsPerPage {
		return p.count
	}
	n := 0
	for k := start >> 6; k<<6 < end; k++ {
		lo, hi := max(start-k<<6, 0), min(end-k<<6, 64)
		n += bits.OnesCount64(p.w[k] & rangeMask(lo, hi))
	}
	return n
}

// nextWord returns the first word index >= k whose summary bit is set in
// sum, or -1.
func nextWord(sum *[sumWords]uint64, k int, invert bool) int {
	for s := k >> 6; s < sumWords; s++ {
		x := sum[s]
		if invert {
			x = ^x
		}
		if s == k>>6 {
			x &= ^uint64(0) << uint(k&63)
		}
		if x != 0 {
			return s<<6 + bits.TrailingZeros64(x)
		}
	}
	return -1
}

// prevWord returns the last word index <= k whose summary bit is set in
// sum, or -1.
func prevWord(sum *[sumWords]uint64, k int, invert bool) int {
	for s := k >> 6; s >= 0; s-- {
		x := sum[s]
		if invert {
			x = ^x
		}
		if s == k>>6 && k&63 != 63 {
			x &= (1 << uint(k&63+1)) - 1
		}
		if x != 0 {
			return s<<6 + 63 - bits.LeadingZeros64(x)
		}
	}
	return -1
}

// findFirst returns the first bit >= i whose value is v, or -1.
func (p *page) findFirst(v bool, i int) int {
	k := i >> 6
	x := p.w[k]
	if !v {
		x = ^x
	}
	x &= ^uint64(0) << uint(i&63)
	if x != 0 {
		return k<<6 + bits.TrailingZeros64(x)
	}
	if k+1 >= wordsInPage {
		return -1
	}
	var n int
	if v {
		n = nextWord(&p.nz, k+1, false)
	} else {
		n = nextWord(&p.full, k+1, true)
	}
	if n < 0 {
		return -1
	}
	x = p.w[n]
	if !v {
		x = ^x
	}
	return n<<6 + bits.TrailingZeros64(x)
}

// findLast returns the last bit <= i whose value is v, or -1.
func (p *page) findLast(v bool, i int) int {
	k := i >> 6
	x := p.w[k]
	if !v {
		x = ^x
	}
	if i&63 != 63 {
		x &= (1 << uint(i&63+1)) - 1
	}
	if x != 0 {
		return k<<6 + 63 - bits.LeadingZeros64(x)
	}
	if k == 0 {
		return -1
	}
	var n int
	if v {
		n = prevWord(&p.nz, k-1, false)
	} else {
		n = prevWord(&p.full, k-1, true)
	}
	if n < 0 {
		return -1
	}
	x = p.w[n]
	if !v {
		x = ^x
	}
	return n<<6 + 63 - bits.LeadingZeros64(x)
}
