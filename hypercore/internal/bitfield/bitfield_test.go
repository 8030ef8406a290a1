package bitfield

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// edges are bit positions around word, summary, page and segment
// boundaries.
var edges = []uint64{
	0, 1, 31, 32, 33, 63, 64, 65, 4095, 4096, 4097,
	BitsPerPage - 1, BitsPerPage, BitsPerPage + 1,
	2*BitsPerPage - 1, 2 * BitsPerPage,
	BitsPerSegment - 1, BitsPerSegment, BitsPerSegment + 1,
	1 << 40, 1<<40 + 63,
	math.MaxUint64 - 1, math.MaxUint64,
}

func TestSetGetEdges(t *testing.T) {
	for _, i := range edges {
		t.Run(fmt.Sprintf("bit=%d", i), func(t *testing.T) {
			b := New()
			b.Set(i, true)
			for _, j := range edges {
				if got, want := b.Get(j), i == j; got != want {
					t.Errorf("Get(%d) = %v, want %v", j, got, want)
				}
			}
			if got, ok := b.FirstSet(0); !ok || got != i {
				t.Errorf("FirstSet(0) = %d, %v; want %d", got, ok, i)
			}
			if got, ok := b.LastSet(math.MaxUint64); !ok || got != i {
				t.Errorf("LastSet(max) = %d, %v; want %d", got, ok, i)
			}
			if got, ok := b.FirstSet(i); !ok || got != i {
				t.Errorf("FirstSet(%d) = %d, %v", i, got, ok)
			}
			if i < math.MaxUint64 {
				if _, ok := b.FirstSet(i + 1); ok {
					t.Errorf("FirstSet(%d) found a bit", i+1)
				}
				if got, ok := b.FirstUnset(i); !ok || got != i+1 {
					t.Errorf("FirstUnset(%d) = %d, %v; want %d", i, got, ok, i+1)
				}
			}
			if i > 0 {
				if _, ok := b.LastSet(i - 1); ok {
					t.Errorf("LastSet(%d) found a bit", i-1)
				}
				if got, ok := b.LastUnset(i); !ok || got != i-1 {
					t.Errorf("LastUnset(%d) = %d, %v; want %d", i, got, ok, i-1)
				}
			}
			wantContig := uint64(0)
			if i == 0 {
				wantContig = 1
			}
			if got := b.ContiguousLength(); got != wantContig {
				t.Errorf("ContiguousLength = %d, want %d", got, wantContig)
			}
			if got := b.CountSet(0, math.MaxUint64); got != 1 && i != math.MaxUint64 {
				t.Errorf("CountSet = %d, want 1", got)
			}
			b.Set(i, false)
			if b.Get(i) {
				t.Errorf("Get(%d) after clear", i)
			}
			if _, ok := b.FirstSet(0); ok {
				t.Errorf("FirstSet after clear found a bit")
			}
		})
	}
}

func TestSetRangeEdges(t *testing.T) {
	for _, s := range edges[:len(edges)-4] {
		for _, l := range []uint64{1, 2, 31, 32, 33, 64, 65, 4096, BitsPerPage - 1, BitsPerPage, BitsPerPage + 1, 3*BitsPerPage + 5} {
			t.Run(fmt.Sprintf("start=%d,len=%d", s, l), func(t *testing.T) {
				b := New()
				e := s + l
				b.SetRange(s, e, true)
				if got := b.CountSet(0, math.MaxUint64); got != l {
					t.Fatalf("CountSet = %d, want %d", got, l)
				}
				for _, p := range []uint64{s - 1, s, s + 1, e - 2, e - 1, e, e + 1} {
					if p > e+1 { // s-1 wrapped
						continue
					}
					if got, want := b.Get(p), p >= s && p < e; got != want {
						t.Errorf("Get(%d) = %v, want %v", p, got, want)
					}
				}
				if got, ok := b.FirstUnset(s); !ok || got != e {
					t.Errorf("FirstUnset(%d) = %d, want %d", s, got, e)
				}
				if got, ok := b.LastSet(math.MaxUint64); !ok || got != e-1 {
					t.Errorf("LastSet = %d, want %d", got, e-1)
				}
				want := uint64(0)
				if s == 0 {
					want = e
				}
				if got := b.ContiguousLength(); got != want {
					t.Errorf("ContiguousLength = %d, want %d", got, want)
				}
				rs := slices.Collect(b.Ranges(0))
				if len(rs) != 1 || rs[0] != (Range{s, e}) {
					t.Errorf("Ranges = %v, want [{%d %d}]", rs, s, e)
				}
				// Clear the middle, leaving one bit on each side when possible.
				if l >= 3 {
					b.SetRange(s+1, e-1, false)
					if got := b.CountSet(0, math.MaxUint64); got != 2 {
						t.Errorf("CountSet after clear = %d, want 2", got)
					}
					if got, ok := b.FirstSet(s + 1); !ok || got != e-1 {
						t.Errorf("FirstSet(%d) = %d, want %d", s+1, got, e-1)
					}
				}
			})
		}
	}
}

func TestContiguousLength(t *testing.T) {
	b := New()
	b.SetRange(BitsPerPage, 2*BitsPerPage+10, true)
	if got := b.ContiguousLength(); got != 0 {
		t.Fatalf("got %d, want 0", got)
	}
	b.SetRange(1, BitsPerPage, true)
	if got := b.ContiguousLength(); got != 0 {
		t.Fatalf("got %d, want 0", got)
	}
	b.Set(0, true)
	if got, want := b.ContiguousLength(), uint64(2*BitsPerPage+10); got != want {
		t.Fatalf("got %d, want %d", got, want)
	}
	b.Set(100, false)
	if got := b.ContiguousLength(); got != 100 {
		t.Fatalf("got %d, want 100", got)
	}
	page := b.AppendPage(nil, 0)
	page[100/8] |= 1 << (100 % 8)
	if err := b.ImportPage(0, page); err != nil {
		t.Fatal(err)
	}
	if got, want := b.ContiguousLength(), uint64(2*BitsPerPage+10); got != want {
		t.Fatalf("after import got %d, want %d", got, want)
	}
	if err := b.InsertWords(64, []uint32{0xfffffffe}); err != nil {
		t.Fatal(err)
	}
	if got := b.ContiguousLength(); got != 64 {
		t.Fatalf("after insert got %d, want 64", got)
	}
}

func TestPageRoundTrip(t *testing.T) {
	b := New()
	for _, i := range []uint64{0, 1, 63, 64, 100, 1000, 32767} {
		b.Set(BitsPerPage*3+i, true)
	}
	if got := slices.Collect(b.Pages()); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("Pages = %v, want [3]", got)
	}
	page := b.AppendPage(nil, 3)
	if len(page) != BytesPerPage {
		t.Fatalf("page is %d bytes", len(page))
	}
	// Byte/bit order: bit b of byte k is bit 8k+b.
	if page[0] != 0x03 || page[7] != 0x80 || page[8] != 0x01 || page[100/8] != 1<<(100%8) || page[4095] != 0x80 {
		t.Fatalf("unexpected byte layout % x ... % x", page[:16], page[4088:])
	}
	c := New()
	if err := c.ImportPage(3, page); err != nil {
		t.Fatal(err)
	}
	if got := c.AppendPage(nil, 3); !bytes.Equal(got, page) {
		t.Fatal("page differs after import")
	}
	if got := c.AppendPage(nil, 2); !bytes.Equal(got, make([]byte, BytesPerPage)) {
		t.Fatal("absent page is not zero")
	}
	if err := c.ImportPage(0, page[:100]); !errors.Is(err, ErrPageSize) {
		t.Fatalf("short page: err = %v", err)
	}
}

func TestWords(t *testing.T) {
	b := New()
	b.Set(0, true)
	b.Set(33, true)
	b.Set(BitsPerPage+31, true)
	ws, err := b.AppendWords(nil, 0, WordsPerPage+2)
	if err != nil {
		t.Fatal(err)
	}
	if ws[0] != 1 || ws[1] != 2 || ws[WordsPerPage] != 1<<31 || ws[WordsPerPage+1] != 0 {
		t.Fatalf("words = %x %x ... %x %x", ws[0], ws[1], ws[WordsPerPage], ws[WordsPerPage+1])
	}
	ws2, _ := b.AppendWords(nil, 32, 1)
	if ws2[0] != 2 {
		t.Fatalf("word at 32 = %x", ws2[0])
	}
	if _, err := b.AppendWords(nil, 5, 1); !errors.Is(err, ErrUnaligned) {
		t.Fatalf("err = %v", err)
	}
	c := New()
	if err := c.InsertWords(BitsPerPage-32, []uint32{0x80000001, 0xffffffff, 0}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		i    uint64
		want bool
	}{{BitsPerPage - 33, false}, {BitsPerPage - 32, true}, {BitsPerPage - 31, false}, {BitsPerPage - 1, true}, {BitsPerPage, true}, {BitsPerPage + 31, true}, {BitsPerPage + 32, false}} {
		if got := c.Get(tc.i); got != tc.want {
			t.Errorf("Get(%d) = %v, want %v", tc.i, got, tc.want)
		}
	}
	if err := c.InsertWords(3, []uint32{1}); !errors.Is(err, ErrUnaligned) {
		t.Fatalf("err = %v", err)
	}
	if err := c.InsertWords(math.MaxUint64-31, []uint32{1, 1}); !errors.Is(err, ErrRange) {
		t.Fatalf("err = %v", err)
	}
	if err := c.InsertWords(math.MaxUint64-31, []uint32{1 << 31}); err != nil || !c.Get(math.MaxUint64) {
		t.Fatalf("last word: err = %v, bit = %v", err, c.Get(math.MaxUint64))
	}
}

func TestFillPage(t *testing.T) {
	for _, tc := range []struct{ n, s, e uint64 }{
		{0, 0, 1}, {0, 3, 5}, {0, 7, 9}, {0, 0, 64}, {0, 5, BitsPerPage + 5},
		{1, 5, BitsPerPage + 5}, {1, BitsPerPage - 1, 2*BitsPerPage + 1}, {2, 0, BitsPerPage}, {1, 10, 10},
	} {
		t.Run(fmt.Sprintf("page=%d,start=%d,end=%d", tc.n, tc.s, tc.e), func(t *testing.T) {
			b := New()
			b.SetRange(0, 3*BitsPerPage, true)
			b.SetRange(tc.s, tc.e, false)
			buf := bytes.Repeat([]byte{0xff}, BytesPerPage)
			if err := FillPage(buf, tc.n, tc.s, tc.e, false); err != nil {
				t.Fatal(err)
			}
			if want := b.AppendPage(nil, tc.n); !bytes.Equal(buf, want) {
				t.Fatal("FillPage differs from SetRange")
			}
			if err := FillPage(buf, tc.n, tc.s, tc.e, true); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf, bytes.Repeat([]byte{0xff}, BytesPerPage)) {
				t.Fatal("FillPage(true) did not restore")
			}
		})
	}
}

// model is the reference: a plain []bool.
type model []bool

func (m model) findFirst(v bool, pos uint64) (uint64, bool) {
	for i := pos; i < uint64(len(m)); i++ {
		if m[i] == v {
			return i, true
		}
	}
	if !v && pos >= uint64(len(m)) {
		return pos, true
	}
	if !v {
		return uint64(len(m)), true
	}
	return 0, false
}

func (m model) findLast(v bool, pos uint64) (uint64, bool) {
	if pos >= uint64(len(m)) {
		if !v {
			return pos, true
		}
		pos = uint64(len(m)) - 1
	}
	for i := int64(pos); i >= 0; i-- {
		if m[i] == v {
			return uint64(i), true
		}
	}
	return 0, false
}

func TestModel(t *testing.T) {
	const size = 5*BitsPerPage + 77
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	for seed := range uint64(rounds) {
		rng := rand.New(rand.NewPCG(seed, 42))
		m := make(model, size)
		b := New()
		pos := func() uint64 {
			switch rng.IntN(3) {
			case 0: // near a boundary
				base := []uint64{0, 64, 4096, BitsPerPage, 2 * BitsPerPage, 4 * BitsPerPage, size - 1}[rng.IntN(7)]
				p := int64(base) + int64(rng.IntN(130)) - 65
				return uint64(min(max(p, 0), size-1))
			default:
				return uint64(rng.IntN(size))
			}
		}
		for op := range 400 {
			switch rng.IntN(10) {
			case 0, 1, 2:
				i, v := pos(), rng.IntN(3) != 0
				b.Set(i, v)
				m[i] = v
			case 3, 4:
				s := pos()
				e := min(s+uint64(rng.IntN(3*BitsPerPage)), size)
				v := rng.IntN(3) != 0
				b.SetRange(s, e, v)
				for i := s; i < e; i++ {
					m[i] = v
				}
			case 5:
				// Round trip a page through its bytes.
				n := uint64(rng.IntN(6))
				if err := b.ImportPage(n, b.AppendPage(nil, n)); err != nil {
					t.Fatal(err)
				}
			case 6:
				// Overwrite some words as a bitfield message does.
				s := pos() &^ 31
				cnt := min(rng.IntN(2*WordsPerPage), int(size-s)/32)
				ws := make([]uint32, cnt)
				for j := range ws {
					switch rng.IntN(3) {
					case 0:
						ws[j] = 0xffffffff
					case 1:
						ws[j] = rng.Uint32()
					}
				}
				if err := b.InsertWords(s, ws); err != nil {
					t.Fatal(err)
				}
				for j, w := range ws {
					for k := range 32 {
						m[s+uint64(32*j+k)] = w&(1<<k) != 0
					}
				}
			default:
				// Only check.
			}
			p, v := pos(), rng.IntN(2) == 0
			g1, o1 := b.FindFirst(v, p)
			w1, wo1 := m.findFirst(v, p)
			if g1 != w1 || o1 != wo1 {
				t.Fatalf("seed %d op %d: FindFirst(%v, %d) = %d,%v; want %d,%v", seed, op, v, p, g1, o1, w1, wo1)
			}
			g2, o2 := b.FindLast(v, p)
			w2, wo2 := m.findLast(v, p)
			if g2 != w2 || o2 != wo2 {
				t.Fatalf("seed %d op %d: FindLast(%v, %d) = %d,%v; want %d,%v", seed, op, v, p, g2, o2, w2, wo2)
			}
			if got, want := b.Get(p), m[p]; got != want {
				t.Fatalf("seed %d op %d: Get(%d) = %v, want %v", seed, op, p, got, want)
			}
			wc, _ := m.findFirst(false, 0)
			if got := b.ContiguousLength(); got != wc {
				t.Fatalf("seed %d op %d: ContiguousLength = %d, want %d", seed, op, got, wc)
			}
			s := pos()
			e := min(s+uint64(rng.IntN(2*BitsPerPage)), size)
			var cnt uint64
			for i := s; i < e; i++ {
				if m[i] {
					cnt++
				}
			}
			if got := b.CountSet(s, e); got != cnt {
				t.Fatalf("seed %d op %d: CountSet(%d, %d) = %d, want %d", seed, op, s, e, got, cnt)
			}
			if got, want := b.HasSet(s, e), cnt > 0; got != want {
				t.Fatalf("seed %d op %d: HasSet = %v, want %v", seed, op, got, want)
			}
			if got, want := b.HasUnset(s, e), cnt < e-s; got != want {
				t.Fatalf("seed %d op %d: HasUnset = %v, want %v", seed, op, got, want)
			}
		}
		// Ranges against the model.
		var want []Range
		for i := 0; i < size; {
			if !m[i] {
				i++
				continue
			}
			j := i
			for j < size && m[j] {
				j++
			}
			want = append(want, Range{uint64(i), uint64(j)})
			i = j
		}
		if got := slices.Collect(b.Ranges(0)); !slices.Equal(got, want) {
			t.Fatalf("seed %d: Ranges differ: got %d ranges, want %d", seed, len(got), len(want))
		}
		// Words against the model.
		ws, err := b.AppendWords(nil, 0, size/32)
		if err != nil {
			t.Fatal(err)
		}
		for j, w := range ws {
			for k := range 32 {
				if got := w&(1<<k) != 0; got != m[32*j+k] {
					t.Fatalf("seed %d: word %d bit %d = %v", seed, j, k, got)
				}
			}
		}
	}
}

func TestZeroValue(t *testing.T) {
	var b Bitfield
	if b.Get(5) || b.ContiguousLength() != 0 {
		t.Fatal("zero value not empty")
	}
	if got, ok := b.FirstUnset(7); !ok || got != 7 {
		t.Fatalf("FirstUnset(7) = %d, %v", got, ok)
	}
	if got, ok := b.LastUnset(7); !ok || got != 7 {
		t.Fatalf("LastUnset(7) = %d, %v", got, ok)
	}
	b.SetRange(10, 5, true) // empty
	b.SetRange(3, 9, false) // nothing to clear
	if len(b.pages) != 0 {
		t.Fatal("clearing created pages")
	}
}

func FuzzImportPage(f *testing.F) {
	f.Add(uint64(0), []byte{0x00})
	f.Add(uint64(1), []byte{0xff})
	f.Add(uint64(2), []byte{0x01, 0x80, 0x00, 0xff, 0x7f})
	f.Add(uint64(math.MaxUint64>>15), []byte{1, 2, 3})
	f.Add(uint64(math.MaxUint64), []byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, n uint64, data []byte) {
		b := New()
		b.SetRange(0, 2*BitsPerPage, true)
		if len(data) != BytesPerPage {
			if err := b.ImportPage(n, data); !errors.Is(err, ErrPageSize) {
				t.Fatalf("len %d: err = %v", len(data), err)
			}
			if len(data) == 0 {
				return
			}
			// Tile short inputs into a whole page so every input reaches
			// the import itself.
			page := make([]byte, BytesPerPage)
			for i := 0; i < len(page); i += len(data) {
				copy(page[i:], data)
			}
			data = page
		}
		err := b.ImportPage(n, data)
		if n > math.MaxUint64>>15 {
			if !errors.Is(err, ErrRange) {
				t.Fatalf("page %d: err = %v", n, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := b.AppendPage(nil, n); !bytes.Equal(got, data) {
			t.Fatal("page differs after import")
		}
		base := n << 15
		var cnt uint64
		for k, x := range data {
			for j := range 8 {
				want := x&(1<<j) != 0
				if want {
					cnt++
				}
				if got := b.Get(base + uint64(8*k+j)); got != want {
					t.Fatalf("bit %d = %v, want %v", 8*k+j, got, want)
				}
			}
		}
		last := base | (BitsPerPage - 1) // CountSet's end is exclusive, so count the last bit apart
		got := b.CountSet(base, last)
		if b.Get(last) {
			got++
		}
		if got != cnt {
			t.Fatalf("CountSet = %d, want %d", got, cnt)
		}
		// The contiguous length is the first unset bit, and every bit
		// below it is set.
		want, ok := b.FindFirst(false, 0)
		if !ok {
			t.Fatal("no unset bit")
		}
		if got := b.ContiguousLength(); got != want {
			t.Fatalf("ContiguousLength = %d, want %d", got, want)
		}
		if want > 0 && b.CountSet(0, want) != want {
			t.Fatalf("bits below contiguous length %d are not all set", want)
		}
	})
}
