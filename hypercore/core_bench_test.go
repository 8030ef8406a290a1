package hypercore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// The benchmarks run on disk (b.TempDir), as cores do. sync=false is the
// like-for-like setting for JS hypercore, which does not sync its writes;
// sync=true pays one fsync per append.

func benchCore(b *testing.B, noSync bool) *Core {
	b.Helper()
	c, err := Open(b.TempDir(), &Options{KeyPair: seedKeyPair(99), NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func kib(i int) []byte {
	blk := make([]byte, 1024)
	for j := range blk {
		blk[j] = byte(i + j)
	}
	return blk
}

// BenchmarkAppendBatch appends batches of 100 blocks of 1 KiB.
func BenchmarkAppendBatch(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			batch := make([][]byte, 100)
			for i := range batch {
				batch[i] = kib(i)
			}
			benchAppendBatches(b, benchCore(b, !sync), batch)
		})
	}
}

// benchAppendBatches appends batch to c b.N times.
func benchAppendBatches(b *testing.B, c *Core, batch [][]byte) {
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)) * 1024)
	for b.Loop() {
		if _, err := c.Append(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "blocks/s")
}

// BenchmarkAppendBatchRandom is BenchmarkAppendBatch with blocks of random
// bytes, which storage cannot compress (the blocks of the other benchmarks
// and of bench/ compress to about a third).
func BenchmarkAppendBatchRandom(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	batch := make([][]byte, 100)
	for i := range batch {
		batch[i] = make([]byte, 1024)
		for j := range batch[i] {
			batch[i][j] = byte(r.Uint32())
		}
	}
	benchAppendBatches(b, benchCore(b, true), batch)
}

// BenchmarkAppend appends one 1 KiB block at a time.
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			c := benchCore(b, !sync)
			blk := kib(0)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(1024)
			for b.Loop() {
				if _, err := c.Append(ctx, blk); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
		})
	}
}

// BenchmarkGetRandom reads random blocks of a core of 10,000 blocks of
// 1 KiB.
func BenchmarkGetRandom(b *testing.B) {
	c := benchCore(b, true)
	ctx := context.Background()
	const n = 10000
	for i := 0; i < n; i += 100 {
		batch := make([][]byte, 100)
		for j := range batch {
			batch[j] = kib(i + j)
		}
		if _, err := c.Append(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.SetBytes(1024)
	for b.Loop() {
		if _, err := c.Get(ctx, rng.Uint64N(n), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
}
