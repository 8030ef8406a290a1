package bitfield

import (
	"math/rand/v2"
	"testing"
)

// benchField has 64 pages (2^21 bits), every other block set in the last
// quarter.
func benchField() *Bitfield {
	b := New()
	b.SetRange(0, 3*BitsPerSegment/4, true)
	for i := uint64(3 * BitsPerSegment / 4); i < BitsPerSegment; i += 2 {
		b.Set(i, true)
	}
	return b
}

func BenchmarkGet(b *testing.B) {
	f := benchField()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		f.Get(rng.Uint64N(BitsPerSegment))
	}
}

func BenchmarkSetAppend(b *testing.B) {
	f := New()
	var i uint64
	b.ReportAllocs()
	for b.Loop() {
		f.Set(i, true)
		i++
	}
}

// BenchmarkFirstUnsetFull finds the first unset bit after 1.5M set ones.
func BenchmarkFirstUnsetFull(b *testing.B) {
	f := benchField()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := f.FirstUnset(0); !ok {
			b.Fatal("none")
		}
	}
}

// BenchmarkFirstSetSparse finds a set bit a million positions away.
func BenchmarkFirstSetSparse(b *testing.B) {
	f := New()
	f.Set(1_000_000, true)
	b.ReportAllocs()
	for b.Loop() {
		f.FirstSet(3)
	}
}

func BenchmarkAppendPage(b *testing.B) {
	f := benchField()
	buf := make([]byte, 0, BytesPerPage)
	b.ReportAllocs()
	b.SetBytes(BytesPerPage)
	for b.Loop() {
		buf = f.AppendPage(buf[:0], 10)
	}
}
