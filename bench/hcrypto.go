package main

import (
	"bytes"
	"context"
	"time"

	"github.com/gopear/gopear/hcrypto"
)

// The hcrypto workload hashes 1 KiB blocks into merkle tree leaves, the
// work hypercore does for every appended or downloaded block.

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
	block := bytes.Repeat([]byte{0xab}, 1024)
	var sink [32]byte
	ops, err := rate(ctx, 2*time.Second, func(n int) error {
		for range n {
			sink = hcrypto.LeafHash(block)
		}
		return nil
	})
	_ = sink
	return ops * 1024 / 1e6, err
}
