package hyperblobs_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/gopear/gopear/hyperblobs"
	"github.com/gopear/gopear/hypercore"
)

// memCore is an in-memory Core for tests: a slice of blocks, nil for a
// cleared block. Get waits for blocks it does not have (until appended),
// as a hypercore waits for peers.
type memCore struct {
	mu      sync.Mutex
	blocks  [][]byte
	cleared map[uint64]bool
	grown   chan struct{}
	appends int
}

var _ hyperblobs.Core = (*memCore)(nil)

func newMemCore(blocks ...[]byte) *memCore {
	c := &memCore{grown: make(chan struct{}), cleared: map[uint64]bool{}}
	for _, b := range blocks {
		c.blocks = append(c.blocks, bytes.Clone(b))
	}
	return c
}

func (c *memCore) Get(ctx context.Context, index uint64, opts *hypercore.GetOptions) ([]byte, error) {
	for {
		c.mu.Lock()
		if index < uint64(len(c.blocks)) && !c.cleared[index] {
			b := bytes.Clone(c.blocks[index])
			c.mu.Unlock()
			return b, nil
		}
		grown := c.grown
		c.mu.Unlock()
		if opts != nil && opts.NoWait {
			return nil, fmt.Errorf("memcore: block %d: %w", index, hypercore.ErrNotAvailable)
		}
		select {
		case <-grown:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *memCore) Append(ctx context.Context, blocks ...[]byte) (hypercore.AppendResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.appends++
	for _, b := range blocks {
		c.blocks = append(c.blocks, bytes.Clone(b))
	}
	close(c.grown)
	c.grown = make(chan struct{})
	return hypercore.AppendResult{Length: uint64(len(c.blocks)), ByteLength: c.byteLengthLocked()}, nil
}

func (c *memCore) Length() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return uint64(len(c.blocks))
}

func (c *memCore) ByteLength() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byteLengthLocked()
}

func (c *memCore) byteLengthLocked() uint64 {
	var n uint64
	for _, b := range c.blocks {
		n += uint64(len(b))
	}
	return n
}

// Seek walks the blocks; like a hypercore it skips empty blocks and gives
// (Length, 0) at the end of the data.
func (c *memCore) Seek(ctx context.Context, bytes uint64, opts *hypercore.GetOptions) (uint64, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, b := range c.blocks {
		if bytes < uint64(len(b)) {
			return uint64(i), bytes, nil
		}
		bytes -= uint64(len(b))
	}
	if bytes == 0 {
		return uint64(len(c.blocks)), 0, nil
	}
	return 0, 0, hypercore.ErrOutOfBounds
}

func (c *memCore) Clear(ctx context.Context, start, end uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := start; i < end && i < uint64(len(c.blocks)); i++ {
		c.cleared[i] = true
	}
	return nil
}

func (c *memCore) raw() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, len(c.blocks))
	for i, b := range c.blocks {
		out[i] = bytes.Clone(b)
	}
	return out
}
