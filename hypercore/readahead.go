package hypercore

import (
	"sync"

	"github.com/gopear/gopear/hypercore/internal/storage"
)

// readAhead serves the block reads of a core answering a sequential
// download: a peer that downloads a core asks for its blocks one request
// at a time, in order, and a database lookup for each costs more than
// the rest of the answer. After two reads in a row of consecutive blocks
// it reads the following ones with one iterator and keeps them, up to
// readAheadBlocks blocks or readAheadBytes bytes.
//
// The blocks of a fork never change (a truncation moves the core to a
// new fork; clearing a block removes it from the bitfield, which callers
// check first), so a window is valid for the fork it was read on and is
// dropped when the core is on another.
//
// The window's blocks share one buffer, a slab, which the next window
// reuses once every block handed out of it is released: the answers of a
// download then read their blocks without allocating. A block still out
// when the window moves on keeps its slab, which is then left to the
// garbage collector.
type readAhead struct {
	mu     sync.Mutex
	fork   uint64
	start  uint64   // index of blocks[0]
	blocks [][]byte // nil entries: not stored when read
	next   uint64   // the index after the last block read: a read there is sequential
	slab   *slab    // holds blocks
}

// slab is the buffer of a window's blocks.
type slab struct {
	buf  []byte
	refs int // blocks of buf handed out and not released, under readAhead.mu
}

const (
	readAheadBlocks = 64
	readAheadBytes  = 1 << 20
	// slabSize holds readAheadBytes of blocks and the block that crosses
	// the mark, if it is not larger than 64 KiB (hyperblobs' block size).
	slabSize = readAheadBytes + 64<<10
)

// block returns block i of fork as stored in sc, where length is the
// core's length (blocks past it are not read ahead), and the function to
// call once done with it (never nil). It returns storage.ErrNotFound for a
// block that is not stored. The caller holds st.mu (read) so that fork
// and length are the core's.
func (ra *readAhead) block(sc *storage.Core, fork, length, i uint64) ([]byte, func(), error) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if ra.fork != fork {
		ra.fork, ra.blocks, ra.next = fork, nil, 0
	}
	if i >= ra.start && i-ra.start < uint64(len(ra.blocks)) {
		ra.next = i + 1
		if v := ra.blocks[i-ra.start]; v != nil {
			return v, ra.borrow(), nil
		}
		return nil, nil, storage.ErrNotFound
	}
	sequential := i == ra.next && i > 0
	ra.next = i + 1
	if !sequential {
		v, err := sc.Block(i)
		return v, func() {}, err
	}
	return ra.fill(sc, i, min(length, i+readAheadBlocks))
}

// borrow counts a block of the current slab as handed out and returns the
// function that gives it back.
func (ra *readAhead) borrow() func() {
	s := ra.slab
	s.refs++
	return func() {
		ra.mu.Lock()
		s.refs--
		ra.mu.Unlock()
	}
}

// fill reads blocks [start, end) into the window, stopping after
// readAheadBytes, and returns block start as block does.
func (ra *readAhead) fill(sc *storage.Core, start, end uint64) ([]byte, func(), error) {
	if ra.slab == nil || ra.slab.refs > 0 {
		ra.slab = &slab{buf: make([]byte, 0, slabSize)}
	}
	buf := ra.slab.buf[:0]
	blocks := ra.blocks[:0]
	if cap(blocks) < int(end-start) {
		blocks = make([][]byte, 0, readAheadBlocks)
	}
	clear(blocks[:cap(blocks)])
	size := 0
	for b, err := range sc.Blocks(start, end, buf) {
		if err != nil {
			ra.blocks = nil
			return nil, nil, err
		}
		for uint64(len(blocks)) < b.Index-start {
			blocks = append(blocks, nil) // a gap: not stored
		}
		blocks = append(blocks, b.Data)
		if size += len(b.Data); size >= readAheadBytes {
			break
		}
	}
	ra.start, ra.blocks = start, blocks
	if len(blocks) == 0 || blocks[0] == nil {
		return nil, nil, storage.ErrNotFound
	}
	return blocks[0], ra.borrow(), nil
}
