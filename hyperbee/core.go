package hyperbee

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gopear/gopear/hypercore"
)

// Core is what a bee needs from the log it lives on. *hypercore.Core
// satisfies it, and so does any append-only log of byte blocks.
//
// Get returns block index, waiting for it when the log does not have it
// yet (for a hypercore, until a peer sends it or it is appended); Append
// appends blocks atomically; Length is the number of blocks.
//
// A Core may also have any of these methods, which the bee then uses (each
// as *hypercore.Core has it):
//
//	Writable() bool                                 // false: the bee never writes the header
//	Fork() uint64                                   // a change drops the bee's cache
//	Update(context.Context, *hypercore.UpdateOptions) (bool, error) // asked before live reads
//	Watch(func(hypercore.Event)) (stop func())      // wakes watchers and live history
type Core interface {
	Get(ctx context.Context, index uint64, opts *hypercore.GetOptions) ([]byte, error)
	Append(ctx context.Context, blocks ...[]byte) (hypercore.AppendResult, error)
	Length() uint64
}

var _ Core = (*hypercore.Core)(nil)

type writableCore interface{ Writable() bool }

type forkedCore interface{ Fork() uint64 }

type updatableCore interface {
	Update(ctx context.Context, opts *hypercore.UpdateOptions) (bool, error)
}

type watchableCore interface {
	Watch(fn func(hypercore.Event)) (stop func())
}

// block is a decoded Node block, immutable once made and shared by every
// reader through the cache. Its index is decoded a level at a time, as
// levels are needed.
type block struct {
	seq   uint64
	key   []byte
	value []byte // nil when absent
	index []byte // the raw YoloIndex

	once   sync.Once
	spans  []span // where each level is in index
	levels []atomic.Pointer[rawLevel]
	lerr   error
}

// numLevels returns the number of levels of the block's index.
func (b *block) numLevels() (int, error) {
	b.once.Do(func() {
		b.spans, b.lerr = indexSpans(b.index)
		if b.lerr != nil {
			b.lerr = fmt.Errorf("block %d: %w", b.seq, b.lerr)
		}
		b.levels = make([]atomic.Pointer[rawLevel], len(b.spans))
	})
	return len(b.spans), b.lerr
}

// level returns level i of the block's index, decoding it on first use.
func (b *block) level(i uint64) (*rawLevel, error) {
	n, err := b.numLevels()
	if err != nil {
		return nil, err
	}
	if i >= uint64(n) {
		return nil, corrupt("block %d has no level %d", b.seq, i)
	}
	if l := b.levels[i].Load(); l != nil {
		return l, nil
	}
	sp := b.spans[i]
	l, err := decodeLevelAlone(b.index[sp.start:sp.end])
	if err != nil {
		return nil, fmt.Errorf("block %d level %d: %w", b.seq, i, err)
	}
	b.levels[i].Store(l) // racing decoders store equal values
	return l, nil
}

// hasKey reports whether seq is among the keys of any level.
func (b *block) hasKey(seq uint64) (bool, error) {
	n, err := b.numLevels()
	if err != nil {
		return false, err
	}
	for i := range n {
		l, err := b.level(uint64(i))
		if err != nil {
			return false, err
		}
		if slices.Contains(l.keys, seq) {
			return true, nil
		}
	}
	return false, nil
}

// seqCache holds values by seq, for one fork of the core, up to a budget
// of bytes. When full it evicts an eighth of its values at random (Go's
// map order), which is cheap and keeps no bookkeeping on the hot path.
// The bee keeps two: decoded blocks, and their keys apart, because the
// binary searches of every read and write load keys far more often than
// whole blocks, and keys are small.
type seqCache[V any] struct {
	mu     sync.Mutex
	budget int // bytes; 0 or less: no cache
	size   int
	fork   uint64
	items  map[uint64]cached[V]
}

// cached is a value of a seqCache with its cost in bytes.
type cached[V any] struct {
	v    V
	cost int
}

// blockOverhead approximates what a cached block costs beside its bytes;
// keyOverhead what a cached key does.
const (
	blockOverhead = 256
	keyOverhead   = 64
)

func blockCost(b *block) int {
	return blockOverhead + len(b.key) + len(b.value) + len(b.index)
}

func (c *seqCache[V]) get(seq, fork uint64) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fork != c.fork {
		var zero V
		return zero, false
	}
	it, ok := c.items[seq]
	return it.v, ok
}

// put keeps v, which must not be changed afterwards, at a cost of cost
// bytes.
func (c *seqCache[V]) put(seq uint64, v V, cost int, fork uint64) {
	if c.budget <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if fork != c.fork {
		clear(c.items)
		c.size = 0
		c.fork = fork
	}
	if c.items == nil {
		c.items = make(map[uint64]cached[V])
	}
	if old, ok := c.items[seq]; ok {
		c.size -= old.cost
	}
	c.items[seq] = cached[V]{v, cost}
	c.size += cost
	if c.size > c.budget {
		n := len(c.items)/8 + 1
		for k, it := range c.items {
			delete(c.items, k)
			c.size -= it.cost
			if n--; n <= 0 {
				break
			}
		}
	}
}

func (c *seqCache[V]) drop() {
	c.mu.Lock()
	clear(c.items)
	c.size = 0
	c.mu.Unlock()
}

// loadKey returns the key of block seq, from the key cache or the block.
func (sh *shared) loadKey(ctx context.Context, seq, fork uint64) ([]byte, error) {
	if k, ok := sh.keys.get(seq, fork); ok {
		return k, nil
	}
	b, err := sh.loadBlock(ctx, seq, fork)
	if err != nil {
		return nil, err
	}
	return b.key, nil
}

// fork returns the core's fork, or 0 when the core does not say.
func coreFork(c Core) uint64 {
	if f, ok := c.(forkedCore); ok {
		return f.Fork()
	}
	return 0
}

// loadBlock returns the decoded block seq, from the cache or the core.
// fork is the core's fork as the caller last saw it.
func (sh *shared) loadBlock(ctx context.Context, seq, fork uint64) (*block, error) {
	if b, ok := sh.cache.get(seq, fork); ok {
		return b, nil
	}
	if seq == 0 {
		return nil, fmt.Errorf("%w: block 0 is the header, not a node", ErrCorrupt)
	}
	raw, err := sh.core.Get(ctx, seq, nil)
	if err != nil {
		return nil, fmt.Errorf("hyperbee: reading block %d: %w", seq, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("hyperbee: reading block %d: %w", seq, errors.Join(ErrCorrupt, errors.New("core returned no block")))
	}
	b, err := newBlock(seq, raw)
	if err != nil {
		return nil, err
	}
	sh.cacheBlock(b, fork)
	return b, nil
}

// cacheBlock keeps b, and a copy of its key (which must not pin a large
// block in memory).
func (sh *shared) cacheBlock(b *block, fork uint64) {
	sh.cache.put(b.seq, b, blockCost(b), fork)
	key := bytes.Clone(b.key)
	sh.keys.put(b.seq, key, keyOverhead+len(key), fork)
}

func newBlock(seq uint64, raw []byte) (*block, error) {
	n, err := decodeNode(raw)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", seq, err)
	}
	return &block{seq: seq, key: n.key, value: n.value, index: n.index}, nil
}
