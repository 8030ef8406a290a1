package hyperblobs

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/gopear/gopear/hcrypto"
)

// appendEvery is how many full blocks a Writer gathers before appending
// them, as JS's write stream does.
const appendEvery = 16

// Writer writes one blob (JS createWriteStream): an io.WriteCloser whose
// Close appends the last block and makes [Writer.ID] valid. It holds the
// store's write lock from CreateWriteStream until Close or CloseWithError,
// so other writes to the store wait: always close it.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	b         *Blobs
	ctx       context.Context
	cancel    context.CancelFunc
	blockSize int

	mu       sync.Mutex
	id       ID
	buf      []byte   // the block being filled
	pending  [][]byte // full blocks not appended yet
	appended uint64   // blocks appended so far
	bytes    uint64   // content bytes appended so far
	refs     []BlockRef
	blockMap bool
	hashes   map[[32]byte]BlockRef // dedup: blocks by hash; nil without dedup
	err      error                 // sticky
	done     bool
}

// CreateWriteStream starts a new blob and returns its writer. It waits for
// the store's write lock; ctx bounds that wait and every later write of
// the stream (each may append to the core).
func (b *Blobs) CreateWriteStream(ctx context.Context, opts *PutOptions) (*Writer, error) {
	bs, err := b.blockSizeOf(opts)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &PutOptions{}
	}
	if err := b.acquire(ctx); err != nil {
		return nil, err
	}
	w := &Writer{b: b, blockSize: bs, blockMap: opts.BlockMap || opts.Dedup}
	w.ctx, w.cancel = context.WithCancel(ctx)
	w.id = ID{BlockOffset: b.core.Length(), ByteOffset: b.core.ByteLength(), BlockMap: w.blockMap}
	if opts.Dedup {
		w.hashes = make(map[[32]byte]BlockRef)
		if opts.Previous != nil {
			if err := w.loadPrevious(*opts.Previous); err != nil {
				w.abort()
				return nil, err
			}
		}
	}
	return w, nil
}

// loadPrevious hashes the content blocks of the previous version, so that
// equal new blocks point at them.
func (w *Writer) loadPrevious(prev ID) error {
	refs, err := w.b.BlockMap(w.ctx, prev, nil)
	if err != nil {
		return err
	}
	for _, r := range refs {
		blk, err := w.b.core.Get(w.ctx, r.Index, nil)
		if err != nil {
			return fmt.Errorf("hyperblobs: dedup: get block %d: %w", r.Index, err)
		}
		w.hashes[hcrypto.Hash(blk)] = r
	}
	return nil
}

// Write adds p to the blob. Full blocks are appended to the core in groups
// of 16.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		if len(w.buf) == 0 && len(p) >= w.blockSize {
			w.addBlock(bytes.Clone(p[:w.blockSize]))
			p = p[w.blockSize:]
		} else {
			k := min(w.blockSize-len(w.buf), len(p))
			if w.buf == nil {
				w.buf = make([]byte, 0, w.blockSize)
			}
			w.buf = append(w.buf, p[:k]...)
			p = p[k:]
			if len(w.buf) == w.blockSize {
				w.addBlock(w.buf)
				w.buf = nil
			}
		}
		if len(w.pending) >= appendEvery {
			if err := w.flushLocked(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// addBlock queues one content block, or with dedup only its reference
// when an equal block was already written.
func (w *Writer) addBlock(blk []byte) {
	if !w.blockMap {
		w.pending = append(w.pending, blk)
		return
	}
	ref := BlockRef{Index: w.id.BlockOffset + w.appended + uint64(len(w.pending)), ByteLength: uint64(len(blk))}
	if w.hashes != nil {
		h := hcrypto.Hash(blk)
		if prev, ok := w.hashes[h]; ok {
			w.refs = append(w.refs, prev)
			return
		}
		w.hashes[h] = ref
	}
	w.refs = append(w.refs, ref)
	w.pending = append(w.pending, blk)
}

// flushLocked appends the pending blocks.
func (w *Writer) flushLocked() error {
	if len(w.pending) == 0 {
		return nil
	}
	if _, err := w.b.core.Append(w.ctx, w.pending...); err != nil {
		w.err = fmt.Errorf("hyperblobs: write: %w", err)
		return w.err
	}
	w.appended += uint64(len(w.pending))
	for _, blk := range w.pending {
		w.bytes += uint64(len(blk))
	}
	w.pending = nil
	return nil
}

// Close appends what is left of the blob (and its block map), releases
// the store's write lock and makes [Writer.ID] valid. After an error the
// blocks already appended stay in the core, unreferenced, and the error is
// returned again. Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return w.err
	}
	defer w.abort()
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		w.addBlock(w.buf)
		w.buf = nil
	}
	if err := w.flushLocked(); err != nil {
		return err
	}
	if !w.blockMap {
		w.id.BlockLength, w.id.ByteLength = w.appended, w.bytes
		return nil
	}
	// The map goes after the content; the id points at the map.
	w.id.BlockOffset += w.appended
	w.id.ByteOffset += w.bytes
	w.appended, w.bytes = 0, 0
	w.pending = encodeBlockMap(w.refs)
	if err := w.flushLocked(); err != nil {
		return err
	}
	w.id.BlockLength, w.id.ByteLength = w.appended, w.bytes
	return nil
}

// CloseWithError abandons the blob (JS destroy): nothing more is
// appended, the blocks already appended stay unreferenced, and the write
// lock is released. Later calls return err (ErrClosed if err is nil).
func (w *Writer) CloseWithError(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	if err == nil {
		err = ErrClosed
	}
	if w.err == nil {
		w.err = err
	}
	w.abort()
	return nil
}

// abort ends the writer and releases the lock; w.mu is held.
func (w *Writer) abort() {
	if w.done {
		return
	}
	w.done = true
	w.buf, w.pending, w.hashes = nil, nil, nil
	w.cancel()
	w.b.release()
}

// ID returns the blob's id. It is valid after Close returned nil.
func (w *Writer) ID() ID {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.id
}
