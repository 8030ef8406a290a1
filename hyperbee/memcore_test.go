package hyperbee

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/gopear/gopear/hypercore"
)

// memCore is an in-memory Core for tests: a slice of blocks. Get waits for
// blocks not appended yet, as a hypercore waits for peers.
type memCore struct {
	mu       sync.Mutex
	blocks   [][]byte
	grown    chan struct{} // closed and replaced by every append
	readOnly bool
	appends  int // number of Append calls
}

var _ Core = (*memCore)(nil)

func newMemCore(blocks ...[]byte) *memCore {
	c := &memCore{grown: make(chan struct{})}
	for _, b := range blocks {
		c.blocks = append(c.blocks, bytes.Clone(b))
	}
	return c
}

func (c *memCore) Get(ctx context.Context, index uint64, opts *hypercore.GetOptions) ([]byte, error) {
	for {
		c.mu.Lock()
		if index < uint64(len(c.blocks)) {
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
	if c.readOnly {
		return hypercore.AppendResult{}, hypercore.ErrNotWritable
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.appends++
	for _, b := range blocks {
		c.blocks = append(c.blocks, bytes.Clone(b))
	}
	close(c.grown)
	c.grown = make(chan struct{})
	return hypercore.AppendResult{Length: uint64(len(c.blocks))}, nil
}

func (c *memCore) Length() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return uint64(len(c.blocks))
}

func (c *memCore) Writable() bool { return !c.readOnly }

// raw returns a copy of every block.
func (c *memCore) raw() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, len(c.blocks))
	for i, b := range c.blocks {
		out[i] = bytes.Clone(b)
	}
	return out
}
