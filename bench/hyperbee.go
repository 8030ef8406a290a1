package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hyperbee"
	"github.com/gopear/gopear/hypercore"
)

// The hyperbee workloads run a bee on a real core in a temporary folder on
// each side: puts in batches of 1000, random gets in a bee of 10,000
// entries, and full scans of it. Keys are 8 hex digits of i scattered by a
// multiplicative hash, values 64 bytes. bench/js/hyperbee.js does the same
// with hyperbee 2.27.3 on hypercore 11 (RocksDB, no syncs), so the Go core
// runs with NoSync, the like-for-like setting.

func init() {
	register(workload{
		name:  "hyperbee: put in batches of 1000",
		unit:  "puts/s",
		goal:  5,
		goRun: func(ctx context.Context) (float64, error) { return benchHyperbeeGo(ctx, "put-batch") },
		jsRun: jsWorkload("bench/js/hyperbee.js", "put-batch"),
	})
	register(workload{
		name:  "hyperbee: random get (10,000 entries)",
		unit:  "gets/s",
		goal:  10,
		goRun: func(ctx context.Context) (float64, error) { return benchHyperbeeGo(ctx, "get") },
		jsRun: jsWorkload("bench/js/hyperbee.js", "get"),
	})
	register(workload{
		name:  "hyperbee: full scan (10,000 entries)",
		unit:  "entries/s",
		goal:  10,
		goRun: func(ctx context.Context) (float64, error) { return benchHyperbeeGo(ctx, "scan") },
		jsRun: jsWorkload("bench/js/hyperbee.js", "scan"),
	})
}

const beeEntries = 10000

// beeKey is key(i) of bench/js/hyperbee.js.
func beeKey(i int) []byte {
	return fmt.Appendf(nil, "%08x", uint32(uint64(i)*2654435761))
}

func beeValue(i int) []byte {
	b := make([]byte, 64)
	for j := range b {
		b[j] = byte(i + j)
	}
	return b
}

func beeFill(ctx context.Context, bee *hyperbee.Bee, from, count int) error {
	b := bee.Batch()
	defer b.Close()
	for i := from; i < from+count; i++ {
		if err := b.Put(ctx, beeKey(i), beeValue(i)); err != nil {
			return err
		}
	}
	return b.Flush(ctx)
}

func benchHyperbeeGo(ctx context.Context, mode string) (float64, error) {
	dir, err := os.MkdirTemp("", "gopear-bench-hyperbee-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var seed [32]byte
	for i := range seed {
		seed[i] = 98
	}
	kp := hcrypto.KeyPairFromSeed(seed)
	core, err := hypercore.Open(dir, &hypercore.Options{KeyPair: &kp, NoSync: true})
	if err != nil {
		return 0, err
	}
	defer core.Close()
	bee := hyperbee.New(core, nil)
	defer bee.Close()

	switch mode {
	case "put-batch":
		next := 0
		r, err := rate(ctx, 2*time.Second, func(n int) error {
			for range n {
				if err := beeFill(ctx, bee, next, 1000); err != nil {
					return err
				}
				next += 1000
			}
			return nil
		})
		return 1000 * r, err
	case "get", "scan":
		for i := 0; i < beeEntries; i += 1000 {
			if err := beeFill(ctx, bee, i, 1000); err != nil {
				return 0, err
			}
		}
	default:
		return 0, fmt.Errorf("unknown mode %q", mode)
	}
	if mode == "get" {
		return rate(ctx, 2*time.Second, func(n int) error {
			for range n {
				if _, err := bee.Get(ctx, beeKey(rand.IntN(beeEntries))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	r, err := rate(ctx, 2*time.Second, func(n int) error {
		for range n {
			count := 0
			for _, err := range bee.Range(ctx, hyperbee.Range{}) {
				if err != nil {
					return err
				}
				count++
			}
			if count != beeEntries {
				return fmt.Errorf("scan saw %d entries", count)
			}
		}
		return nil
	})
	return beeEntries * r, err
}
