package main

import (
	"context"
	"math/rand/v2"
	"os"
	"time"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
)

// The hypercore workloads run a real core in a temporary folder on each
// side: appends of 1 KiB blocks in batches of 100 and one at a time, and
// random reads of a core of 10,000 such blocks. bench/js/hypercore.js does
// the same with hypercore 11 (RocksDB, which does not sync writes), so the
// Go core runs with NoSync, the like-for-like setting; Go's default syncs
// every append.

func init() {
	register(workload{
		name:  "hypercore: append batches of 100 x 1 KiB blocks",
		unit:  "blocks/s",
		goal:  5,
		goRun: func(ctx context.Context) (float64, error) { return benchHypercoreGo(ctx, "append-batch") },
		jsRun: jsWorkload("bench/js/hypercore.js", "append-batch"),
	})
	register(workload{
		// The blocks of the other workloads compress to about a third,
		// which the Go storage makes use of; these do not compress.
		name:  "hypercore: append batches of 100 x 1 KiB random blocks",
		unit:  "blocks/s",
		goRun: func(ctx context.Context) (float64, error) { return benchHypercoreGo(ctx, "append-batch-random") },
		jsRun: jsWorkload("bench/js/hypercore.js", "append-batch-random"),
	})
	register(workload{
		name:  "hypercore: append one 1 KiB block at a time",
		unit:  "blocks/s",
		goal:  5,
		goRun: func(ctx context.Context) (float64, error) { return benchHypercoreGo(ctx, "append") },
		jsRun: jsWorkload("bench/js/hypercore.js", "append"),
	})
	register(workload{
		name:  "hypercore: random get of 1 KiB blocks (10,000-block core)",
		unit:  "blocks/s",
		goal:  10,
		goRun: func(ctx context.Context) (float64, error) { return benchHypercoreGo(ctx, "get") },
		jsRun: jsWorkload("bench/js/hypercore.js", "get"),
	})
}

// randomBlock returns random block i: 1 KiB of a xorshift64 stream seeded
// with i+1, as the JS side makes it.
func randomBlock(i int) []byte {
	b := make([]byte, 1024)
	x := uint64(i) + 1
	for j := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[j] = byte(x)
	}
	return b
}

// kibBlock returns block i of the workloads: 1 KiB, as the JS side makes it.
func kibBlock(i int) []byte {
	b := make([]byte, 1024)
	for j := range b {
		b[j] = byte(i + j)
	}
	return b
}

func benchHypercoreGo(ctx context.Context, mode string) (float64, error) {
	dir, err := os.MkdirTemp("", "gopear-bench-hypercore-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var seed [32]byte
	for i := range seed {
		seed[i] = 99
	}
	kp := hcrypto.KeyPairFromSeed(seed)
	core, err := hypercore.Open(dir, &hypercore.Options{KeyPair: &kp, NoSync: true})
	if err != nil {
		return 0, err
	}
	defer core.Close()

	switch mode {
	case "append-batch", "append-batch-random":
		block := kibBlock
		if mode == "append-batch-random" {
			block = randomBlock
		}
		batch := make([][]byte, 100)
		for i := range batch {
			batch[i] = block(i)
		}
		r, err := rate(ctx, 2*time.Second, func(n int) error {
			for range n {
				if _, err := core.Append(ctx, batch...); err != nil {
					return err
				}
			}
			return nil
		})
		return 100 * r, err
	case "append":
		block := kibBlock(0)
		return rate(ctx, 2*time.Second, func(n int) error {
			for range n {
				if _, err := core.Append(ctx, block); err != nil {
					return err
				}
			}
			return nil
		})
	default: // get
		const n = 10000
		for i := 0; i < n; i += 100 {
			batch := make([][]byte, 100)
			for j := range batch {
				batch[j] = kibBlock(i + j)
			}
			if _, err := core.Append(ctx, batch...); err != nil {
				return 0, err
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		return rate(ctx, 2*time.Second, func(k int) error {
			for range k {
				if _, err := core.Get(ctx, rng.Uint64N(n), nil); err != nil {
					return err
				}
			}
			return nil
		})
	}
}
