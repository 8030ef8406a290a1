package hyperblobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/gopear/gopear/hypercore"
)

// ReadOptions select a byte range of a blob and how to wait for blocks
// (JS createReadStream's { start, length, end, wait, timeout, prefetch }).
// A nil *ReadOptions reads the whole blob and waits for missing blocks.
type ReadOptions struct {
	// Start is the offset in the blob of the first byte to read. At or
	// past the end of the blob, nothing is read.
	Start uint64
	// Length is the number of bytes to read; 0 reads to the end of the
	// blob. The range is clamped to the blob. JS's inclusive { end } is
	// Length = end - Start + 1.
	Length uint64
	// Wait says how block reads wait (NoWait, Timeout); nil waits.
	Wait *GetOptions
	// NoPrefetch turns off the download of the range's blocks that the
	// first Read starts (JS prefetch: false). A Reader with Wait.NoWait
	// never prefetches.
	NoPrefetch bool
}

// Reader reads a byte range of a blob: an io.Reader, io.WriterTo,
// io.Seeker and io.ReaderAt whose offsets are relative to the start of the
// range (so http.ServeContent can serve it). It must be closed: Close stops
// a prefetch in progress. ReadAt is safe for concurrent use; Read, WriteTo
// and Seek are not. Missing blocks are waited for as Wait says, and for no
// longer than the context given to CreateReadStream lives.
type Reader struct {
	b      *Blobs
	id     ID
	refs   []BlockRef // block map ids: the content blocks...
	starts []uint64   // ...and the offset in the blob where each starts
	start  uint64     // the range, in blob offsets: [start, end)
	end    uint64
	opts   ReadOptions

	ctx    context.Context
	cancel context.CancelFunc

	pos        uint64 // Read's position, relative to start
	prefetched bool
	wg         sync.WaitGroup

	mu     sync.Mutex
	cache  cached // the last block read
	closed bool
}

// cached is a block of the blob: its ordinal k in the blob, the blob
// offset where it starts, and its bytes.
type cached struct {
	k, off uint64
	data   []byte
	ok     bool
}

// CreateReadStream returns a reader of blob id, or of the range opts
// selects. For a block map id it first reads the map. ctx bounds every
// read of the stream; Close cancels what is in flight.
func (b *Blobs) CreateReadStream(ctx context.Context, id ID, opts *ReadOptions) (*Reader, error) {
	if _, err := id.end(); err != nil {
		return nil, err
	}
	r := &Reader{b: b, id: id}
	if opts != nil {
		r.opts = *opts
	}
	size := id.ByteLength
	if id.BlockMap {
		refs, err := b.BlockMap(ctx, id, r.opts.Wait)
		if err != nil {
			return nil, err
		}
		r.refs, r.starts = refs, make([]uint64, len(refs))
		size = 0
		for i, ref := range refs {
			r.starts[i] = size
			size += ref.ByteLength
		}
	}
	r.start = min(r.opts.Start, size)
	r.end = size
	if r.opts.Length > 0 && r.opts.Length < size-r.start {
		r.end = r.start + r.opts.Length
	}
	r.ctx, r.cancel = context.WithCancel(ctx)
	return r, nil
}

// Size returns the length of the range the reader reads.
func (r *Reader) Size() uint64 { return r.end - r.start }

// Read reads the next bytes of the range, at most one block's worth.
func (r *Reader) Read(p []byte) (int, error) {
	if !r.prefetched {
		r.prefetched = true
		r.prefetch()
	}
	if r.pos >= r.Size() {
		if err := r.check(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.readSome(p, r.start+r.pos)
	r.pos += uint64(n)
	return n, err
}

// WriteTo writes the rest of the range to w, block by block, straight
// from the blocks the core returns (io.WriterTo: io.Copy uses it, with no
// buffer of its own), reading every block into the same buffer when the
// core can. It returns the number of bytes written.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	if !r.prefetched {
		r.prefetched = true
		r.prefetch()
	}
	r.mu.Lock()
	c := r.cache
	r.mu.Unlock()
	var n int64
	var buf []byte // a block this call read, reused for the next
	for r.pos < r.Size() {
		if err := r.check(); err != nil {
			return n, err
		}
		off := r.start + r.pos
		var read bool
		var err error
		if c, read, err = r.next(off, c, buf); err != nil {
			return n, err
		}
		if read {
			buf = c.data
		}
		data := c.data[off-c.off:]
		if rem := r.end - off; uint64(len(data)) > rem {
			data = data[:rem]
		}
		m, err := w.Write(data)
		if m < 0 || m > len(data) {
			m = 0
			if err == nil {
				err = errors.New("hyperblobs: invalid write result")
			}
		}
		r.pos += uint64(m)
		n += int64(m)
		if err != nil {
			return n, err
		}
		if m < len(data) {
			return n, io.ErrShortWrite
		}
	}
	return n, r.check()
}

// ReadAt reads len(p) bytes at offset off of the range; it returns io.EOF
// with fewer bytes at the end of the range.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("hyperblobs: ReadAt: negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		if uint64(off)+uint64(n) >= r.Size() {
			if err := r.check(); err != nil {
				return n, err
			}
			return n, io.EOF
		}
		m, err := r.readSome(p[n:], r.start+uint64(off)+uint64(n))
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Seek sets the offset of the next Read, relative to the start of the
// range (io.SeekStart), the current offset or the end of the range.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = int64(r.pos)
	case io.SeekEnd:
		base = int64(r.Size())
	default:
		return 0, fmt.Errorf("hyperblobs: Seek: invalid whence %d", whence)
	}
	if base+offset < 0 {
		return 0, fmt.Errorf("hyperblobs: Seek: negative position %d", base+offset)
	}
	r.pos = uint64(base + offset)
	return int64(r.pos), nil
}

// Close stops the reader and its prefetch. It is idempotent.
func (r *Reader) Close() error {
	r.mu.Lock()
	r.closed = true
	r.cache = cached{}
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

func (r *Reader) check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return nil
}

// readSome copies bytes of the blob at offset off (< r.end) into p, from
// the one block holding off.
func (r *Reader) readSome(p []byte, off uint64) (int, error) {
	c, err := r.block(off)
	if err != nil {
		return 0, err
	}
	data := c.data[off-c.off:]
	if rem := r.end - off; uint64(len(data)) > rem {
		data = data[:rem]
	}
	return copy(p, data), nil
}

// block returns the block holding blob offset off, through the reader's
// cache of the last block read.
func (r *Reader) block(off uint64) (cached, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return cached{}, ErrClosed
	}
	prev := r.cache
	r.mu.Unlock()
	c, _, err := r.next(off, prev, nil)
	if err != nil {
		return cached{}, err
	}
	r.mu.Lock()
	if !r.closed {
		r.cache = c
	}
	r.mu.Unlock()
	return c, nil
}

// next returns the block holding blob offset off: prev itself if it holds
// off, else the block read (read is true) into buf's storage if the core
// can append to a buffer. The block after prev is found without a seek.
func (r *Reader) next(off uint64, prev cached, buf []byte) (c cached, read bool, err error) {
	if prev.ok && off >= prev.off && off < prev.off+uint64(len(prev.data)) {
		return prev, false, nil
	}
	// The block after the previous one is the usual next read.
	var k, start uint64
	if end := prev.off + uint64(len(prev.data)); prev.ok && off >= end && off < end+uint64(r.b.blockSize) {
		k, start = prev.k+1, end
	} else if k, start, err = r.locate(off); err != nil {
		return cached{}, false, err
	}
	for {
		data, err := r.get(buf[:0], k)
		if err != nil {
			return cached{}, false, err
		}
		if off < start+uint64(len(data)) {
			return cached{k: k, off: start, data: data, ok: true}, true, nil
		}
		// off lies past this block (a guess that fell short, or empty
		// blocks): walk on.
		k, start = k+1, start+uint64(len(data))
		if r.refs != nil && k >= uint64(len(r.refs)) || r.refs == nil && k >= r.id.BlockLength {
			return cached{}, false, fmt.Errorf("%w: offset %d is past the blob's blocks", ErrBadID, off)
		}
	}
}

// locate returns the ordinal and blob offset of the block holding blob
// offset off.
func (r *Reader) locate(off uint64) (k, start uint64, err error) {
	if off == 0 {
		return 0, 0, nil
	}
	if r.refs != nil {
		i := sort.Search(len(r.starts), func(i int) bool { return r.starts[i] > off }) - 1
		return uint64(i), r.starts[i], nil
	}
	index, inner, err := r.b.core.Seek(r.ctx, r.id.ByteOffset+off, r.opts.Wait)
	if err != nil {
		return 0, 0, r.wrap(fmt.Errorf("hyperblobs: seek to byte %d: %w", r.id.ByteOffset+off, err))
	}
	if index < r.id.BlockOffset || index-r.id.BlockOffset >= r.id.BlockLength || inner > off {
		return 0, 0, fmt.Errorf("%w: byte %d of the blob is in block %d, outside it", ErrBadID, off, index)
	}
	return index - r.id.BlockOffset, off - inner, nil
}

// get returns the content block of ordinal k, in buf's storage if the
// core can append to a buffer.
func (r *Reader) get(buf []byte, k uint64) ([]byte, error) {
	index := r.id.BlockOffset + k
	if r.refs != nil {
		index = r.refs[k].Index
	}
	var blk []byte
	var err error
	if ac, ok := r.b.core.(appendCore); ok {
		blk, err = ac.AppendBlock(r.ctx, buf, index, r.opts.Wait)
	} else {
		blk, err = r.b.core.Get(r.ctx, index, r.opts.Wait)
	}
	if err != nil {
		return nil, r.wrap(fmt.Errorf("hyperblobs: get block %d: %w", index, err))
	}
	return blk, nil
}

// wrap turns the cancellation of a closed reader into ErrClosed.
func (r *Reader) wrap(err error) error {
	if errors.Is(err, context.Canceled) && r.check() != nil {
		return ErrClosed
	}
	return err
}

// prefetch starts downloading the range's blocks, as JS's read stream
// does when it opens, unless told not to, the core cannot download, or
// the blocks are already stored. A blob of one block is left to the read
// itself, which asks for it.
func (r *Reader) prefetch() {
	if r.opts.NoPrefetch || (r.opts.Wait != nil && r.opts.Wait.NoWait) || r.refs != nil || r.Size() == 0 || r.id.BlockLength <= 1 {
		return
	}
	d, ok := r.b.core.(downloadCore)
	if !ok || r.check() != nil {
		return
	}
	whole := r.start == 0 && r.end == r.id.ByteLength
	if whole {
		// The whole blob: its blocks are known without seeking.
		rng := hypercore.Range{Start: r.id.BlockOffset, End: r.id.BlockOffset + r.id.BlockLength}
		if h, ok := r.b.core.(hasCore); ok {
			if has, err := h.Has(r.ctx, rng.Start, rng.End); err == nil && has {
				return
			}
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			_ = d.Download(r.ctx, rng)
		}()
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		first, _, err := r.locate(r.start)
		if err != nil {
			return
		}
		last, _, err := r.locate(r.end - 1)
		if err != nil {
			return
		}
		rng := hypercore.Range{Start: r.id.BlockOffset + first, End: r.id.BlockOffset + last + 1}
		if h, ok := r.b.core.(hasCore); ok {
			if has, err := h.Has(r.ctx, rng.Start, rng.End); err == nil && has {
				return
			}
		}
		_ = d.Download(r.ctx, rng)
	}()
}
