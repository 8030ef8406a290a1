package hyperbee

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
)

// The benchmarks run on a real hypercore (NoSync, in a temporary folder),
// as bench/hyperbee.go does, and on the in-memory test core.

func benchCores(b *testing.B) map[string]func() Core {
	return map[string]func() Core{
		"mem": func() Core { return newMemCore() },
		"hypercore": func() Core {
			var seed [32]byte
			kp := hcrypto.KeyPairFromSeed(seed)
			c, err := hypercore.Open(b.TempDir(), &hypercore.Options{KeyPair: &kp, NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			return c
		},
	}
}

func benchKey(i int) []byte { return fmt.Appendf(nil, "%08x", uint32(uint64(i)*2654435761)) }

func benchFill(b *testing.B, bee *Bee, from, n int) {
	ctx := context.Background()
	bt := bee.Batch()
	for i := from; i < from+n; i++ {
		if err := bt.Put(ctx, benchKey(i), make([]byte, 64)); err != nil {
			b.Fatal(err)
		}
	}
	if err := bt.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkPutBatch1000(b *testing.B) {
	for name, mk := range benchCores(b) {
		b.Run(name, func(b *testing.B) {
			bee := New(mk(), nil)
			b.ReportAllocs()
			next := 0
			for b.Loop() {
				if next == 50000 { // keep the tree's size comparable between runs
					b.StopTimer()
					bee, next = New(mk(), nil), 0
					b.StartTimer()
				}
				benchFill(b, bee, next, 1000)
				next += 1000
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "puts/s")
		})
	}
}

func BenchmarkGet(b *testing.B) {
	for name, mk := range benchCores(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			bee := New(mk(), nil)
			for i := 0; i < 10000; i += 1000 {
				benchFill(b, bee, i, 1000)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bee.Get(ctx, benchKey(rand.IntN(10000))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkScan(b *testing.B) {
	for name, mk := range benchCores(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			bee := New(mk(), nil)
			for i := 0; i < 10000; i += 1000 {
				benchFill(b, bee, i, 1000)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, err := range bee.Range(ctx, Range{}) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
