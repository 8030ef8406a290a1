package main

import (
	"bytes"
	"context"
	"time"

	"github.com/gopear/gopear/hcrypto"
)

// The hcrypto workload hashes 1 KiB blocks into merkle tree leaves, the
// work hypercore does for every appended or downloaded block, each side as
// its hypercore does it: Go hashes the blocks of a run together
// (hcrypto.LeafHashes, here over runs of 100 blocks, the append batch of
// the hypercore workloads), JS one by one (hypercore-crypto's data).

func init() {
	register(workload{
		name:  "hcrypto: leaf hash of 1 KiB blocks",
		unit:  "MB/s",
		goal:  5,
		goRun: benchLeafHashGo,
		jsRun: jsWorkload("bench/js/hcrypto.js"),
	})
}

func benchLeafHashGo(ctx context.Context) (float64, error) {
	const run = 100
	blocks := make([][]byte, run)
	for i := range blocks {
		blocks[i] = bytes.Repeat([]byte{0xab}, 1024)
	}
	hashes := make([][32]byte, run)
	runs, err := rate(ctx, 2*time.Second, func(n int) error {
		for range n {
			hcrypto.LeafHashes(hashes, blocks)
		}
		return nil
	})
	return runs * run * 1024 / 1e6, err
}
