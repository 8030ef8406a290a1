// Package hyperblobs stores blobs (large binary values) in a hypercore,
// block-compatible with the JavaScript module hyperblobs 2.12.1: the same
// content cut into the same blocks, and the same blob ids.
//
// A blob is appended to the core as consecutive blocks of at most
// [Options.BlockSize] bytes (64 KiB by default), the last one shorter. Its
// [ID] says where it is: its first block, the byte offset of that block in
// the core, its number of blocks and its number of bytes
// (reference/PROTOCOLS.md section 7.1). Blobs are appended back to back; the
// store keeps no index of its own, so whoever puts a blob keeps its id
// (hyperdrive keeps it in the file's entry).
//
// Large values are streams: [Blobs.CreateReadStream] returns a [Reader]
// (io.Reader, io.Seeker and io.ReaderAt over a blob or a byte range of it)
// and [Blobs.CreateWriteStream] a [Writer] (io.WriteCloser that gives the
// blob's id once closed). [Blobs.Put] and [Blobs.Get] move whole blobs.
//
// # Block maps
//
// A blob may instead be stored as a block map (JS { blockMap: true }, and
// { dedup: true }, which reuses blocks the blob repeats or shares with a
// previous version): its id then points at blocks that list, for each
// content block in order, its index in the core and its length. Reads
// follow the map. [ID.BlockMap] marks such ids.
//
// # Differences from JS
//
// A JS write stream appends every write() as one block, so its blocks
// depend on how the writer was called. A [Writer] cuts what it is given
// into blocks of the block size, which is what JS put does: a write stream
// and a put of the same bytes give the same blocks, and so does a JS write
// stream fed block-sized chunks (as a JS file read stream does, at 64 KiB).
// Blocks written by JS in any other way are read as they are.
//
// A ranged read is clamped to its blob: JS reads on into the next blob when
// start+length passes the end of the blob; here the read ends there.
// A JS length of 0 reads nothing; here Length 0 means "to the end".
//
// # Concurrency
//
// A [Blobs] is safe for concurrent use. Writes (Put, a Writer from open to
// close, a Batch flush) are serialised by one lock, as JS's mutex does, so
// a blob's blocks are consecutive. A Reader's ReadAt is safe for concurrent
// use; its Read and Seek are not.
package hyperblobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hypercore"
)

// DefaultBlockSize is the block size of a store whose Options leave it 0:
// 64 KiB, as in JS.
const DefaultBlockSize = 1 << 16

// Errors of this package. Errors of the core (hypercore.ErrNotAvailable,
// a context's error, ...) are returned wrapped.
var (
	// ErrClosed is returned by a Reader or Writer used after Close.
	ErrClosed = errors.New("hyperblobs: closed")
	// ErrCorrupt marks a block map that does not decode, or is too large.
	ErrCorrupt = errors.New("hyperblobs: corrupt block map")
	// ErrBadID marks an id that cannot be read (an offset or length that
	// overflows).
	ErrBadID = errors.New("hyperblobs: invalid blob id")
)

// ID locates a blob in the core (JS's blob id). Its fields, in this order,
// are those of [hyperdrive.BlobID], so either converts to the other.
type ID struct {
	// BlockOffset is the index of the blob's first block. An empty blob
	// has the core's length at the time it was put.
	BlockOffset uint64 `json:"blockOffset"`
	// ByteOffset is the byte offset of that block in the core: the core's
	// byte length before the blob was put.
	ByteOffset uint64 `json:"byteOffset"`
	// BlockLength is the number of blocks (of the block map, for a block
	// map id); 0 for an empty blob.
	BlockLength uint64 `json:"blockLength"`
	// ByteLength is the number of bytes (of the block map, for a block map
	// id; see [Blobs.ByteLength] for the content's length).
	ByteLength uint64 `json:"byteLength"`
	// BlockMap marks an id whose blocks hold a block map (JS blockMap:
	// true).
	BlockMap bool `json:"blockMap,omitempty"`
}

// end returns the first block after the id's blocks.
func (id ID) end() (uint64, error) {
	e := id.BlockOffset + id.BlockLength
	if e < id.BlockOffset || id.ByteOffset+id.ByteLength < id.ByteOffset {
		return 0, fmt.Errorf("%w: %+v", ErrBadID, id)
	}
	return e, nil
}

// Options configure [New]. A nil *Options means the defaults.
type Options struct {
	// BlockSize is the size of the blocks blobs are cut into; 0 means
	// DefaultBlockSize. It must not exceed hypercore.MaxBlockSize.
	BlockSize int
}

// Blobs is a blob store on a core (JS Hyperblobs).
type Blobs struct {
	core      Core
	blockSize int
	lock      chan struct{} // the write lock, held by a send
}

// New returns the blob store on core. It appends nothing.
func New(core Core, opts *Options) (*Blobs, error) {
	bs := DefaultBlockSize
	if opts != nil && opts.BlockSize != 0 {
		bs = opts.BlockSize
	}
	if bs < 0 || bs > hypercore.MaxBlockSize {
		return nil, fmt.Errorf("hyperblobs: block size %d is not in [1, %d]", bs, hypercore.MaxBlockSize)
	}
	return &Blobs{core: core, blockSize: bs, lock: make(chan struct{}, 1)}, nil
}

// Core returns the core the blobs are stored in.
func (b *Blobs) Core() Core { return b.core }

// BlockSize returns the store's block size.
func (b *Blobs) BlockSize() int { return b.blockSize }

// acquire takes the write lock, or gives up when ctx is done.
func (b *Blobs) acquire(ctx context.Context) error {
	select {
	case b.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Blobs) release() { <-b.lock }

// PutOptions configure [Blobs.Put] and [Blobs.CreateWriteStream]. A nil
// *PutOptions means the defaults.
type PutOptions struct {
	// BlockSize overrides the store's block size for this blob; 0 keeps
	// it.
	BlockSize int
	// BlockMap stores the blob as a block map (JS blockMap: true).
	BlockMap bool
	// Dedup stores the blob as a block map that reuses blocks: a block
	// equal to one already written for this blob, or to one of Previous,
	// is not appended again (JS dedup: true).
	Dedup bool
	// Previous is the id of an earlier version whose blocks a Dedup write
	// may reuse (JS blob); nil means none.
	Previous *ID
}

// Put appends data as a new blob and returns its id (JS put). The blob's
// blocks are appended in one append.
func (b *Blobs) Put(ctx context.Context, data []byte, opts *PutOptions) (ID, error) {
	if opts != nil && (opts.BlockMap || opts.Dedup) {
		w, err := b.CreateWriteStream(ctx, opts)
		if err != nil {
			return ID{}, err
		}
		if _, err := w.Write(data); err != nil {
			w.CloseWithError(err)
			return ID{}, err
		}
		if err := w.Close(); err != nil {
			return ID{}, err
		}
		return w.ID(), nil
	}
	bs, err := b.blockSizeOf(opts)
	if err != nil {
		return ID{}, err
	}
	if err := b.acquire(ctx); err != nil {
		return ID{}, err
	}
	defer b.release()
	id := ID{BlockOffset: b.core.Length(), ByteOffset: b.core.ByteLength(), ByteLength: uint64(len(data))}
	if len(data) == 0 {
		return id, nil
	}
	blocks := make([][]byte, 0, (len(data)+bs-1)/bs)
	for off := 0; off < len(data); off += bs {
		blocks = append(blocks, data[off:min(off+bs, len(data))])
	}
	if _, err := b.core.Append(ctx, blocks...); err != nil {
		return ID{}, fmt.Errorf("hyperblobs: put: %w", err)
	}
	id.BlockLength = uint64(len(blocks))
	return id, nil
}

func (b *Blobs) blockSizeOf(opts *PutOptions) (int, error) {
	if opts == nil || opts.BlockSize == 0 {
		return b.blockSize, nil
	}
	if opts.BlockSize < 0 || opts.BlockSize > hypercore.MaxBlockSize {
		return 0, fmt.Errorf("hyperblobs: block size %d is not in [1, %d]", opts.BlockSize, hypercore.MaxBlockSize)
	}
	return opts.BlockSize, nil
}

// GetOptions say how reads wait for blocks the core does not have. A nil
// *GetOptions waits, as JS does.
type GetOptions = hypercore.GetOptions

// Get returns the whole content of blob id (JS get). Missing blocks are
// fetched as the core's Get does; with opts.NoWait a missing block fails
// the call with an error wrapping hypercore.ErrNotAvailable (JS returns
// null).
func (b *Blobs) Get(ctx context.Context, id ID, opts *GetOptions) ([]byte, error) {
	end, err := id.end()
	if err != nil {
		return nil, err
	}
	if id.BlockMap {
		r, err := b.CreateReadStream(ctx, id, &ReadOptions{Wait: opts})
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return readAllSized(r, r.Size())
	}
	if id.BlockLength == 0 {
		return []byte{}, nil
	}
	if opts == nil || !opts.NoWait {
		download(ctx, b.core, id.BlockOffset, end)
	}
	if id.BlockLength == 1 {
		blk, err := b.core.Get(ctx, id.BlockOffset, opts)
		if err != nil {
			return nil, fmt.Errorf("hyperblobs: get block %d: %w", id.BlockOffset, err)
		}
		return blk, nil
	}
	out := make([]byte, 0, min(id.ByteLength, 1<<30))
	for i := id.BlockOffset; i < end; i++ {
		blk, err := b.core.Get(ctx, i, opts)
		if err != nil {
			return nil, fmt.Errorf("hyperblobs: get block %d: %w", i, err)
		}
		out = append(out, blk...)
	}
	return out, nil
}

// readAllSized reads r to the end into a buffer of the expected size.
func readAllSized(r *Reader, size uint64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(size, 1<<30)))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ByteLength returns the length of blob id's content (JS getByteLength):
// id.ByteLength, or for a block map id the sum of its blocks' lengths.
func (b *Blobs) ByteLength(ctx context.Context, id ID) (uint64, error) {
	if !id.BlockMap || id.ByteLength == 0 {
		return id.ByteLength, nil
	}
	m, err := b.BlockMap(ctx, id, nil)
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, r := range m {
		n += r.ByteLength
	}
	return n, nil
}

// Clear drops the local copies of blob id's blocks (JS clear): they stay
// in the core, to be fetched from peers again when read. For a block map
// id the content blocks the map lists are cleared too, when the map is
// stored locally.
func (b *Blobs) Clear(ctx context.Context, id ID) error {
	end, err := id.end()
	if err != nil {
		return err
	}
	if id.BlockMap {
		m, err := b.BlockMap(ctx, id, &GetOptions{NoWait: true})
		if err == nil {
			for _, r := range m {
				if err := b.core.Clear(ctx, r.Index, r.Index+1); err != nil {
					return fmt.Errorf("hyperblobs: clear: %w", err)
				}
			}
		}
	}
	if err := b.core.Clear(ctx, id.BlockOffset, end); err != nil {
		return fmt.Errorf("hyperblobs: clear: %w", err)
	}
	return nil
}

// Batch collects puts to append together (JS blobs.batch()). Its ids
// assume that nothing else appends to the core before Flush. A Batch is
// not safe for concurrent use.
type Batch struct {
	b      *Blobs
	blocks [][]byte
	bytes  uint64
}

// Batch starts a batch of puts.
func (b *Blobs) Batch() *Batch { return &Batch{b: b} }

// Put adds data to the batch and returns the id it will have once the
// batch is flushed.
func (bt *Batch) Put(data []byte) ID {
	bs := bt.b.blockSize
	id := ID{
		BlockOffset: bt.b.core.Length() + uint64(len(bt.blocks)),
		ByteOffset:  bt.b.core.ByteLength() + bt.bytes,
		ByteLength:  uint64(len(data)),
	}
	for off := 0; off < len(data); off += bs {
		bt.blocks = append(bt.blocks, bytes.Clone(data[off:min(off+bs, len(data))]))
		id.BlockLength++
	}
	bt.bytes += uint64(len(data))
	return id
}

// Get returns blob id, from the core or from the batch's pending blocks.
func (bt *Batch) Get(ctx context.Context, id ID, opts *GetOptions) ([]byte, error) {
	length := bt.b.core.Length()
	if id.BlockOffset < length || id.BlockMap {
		return bt.b.Get(ctx, id, opts)
	}
	end, err := id.end()
	if err != nil {
		return nil, err
	}
	if end-length > uint64(len(bt.blocks)) {
		return nil, fmt.Errorf("%w: blob %+v is neither in the core nor in the batch", ErrBadID, id)
	}
	return bytes.Join(bt.blocks[id.BlockOffset-length:end-length], nil), nil
}

// Flush appends the batch's blocks in one append and empties the batch.
func (bt *Batch) Flush(ctx context.Context) error {
	if len(bt.blocks) == 0 {
		return nil
	}
	if err := bt.b.acquire(ctx); err != nil {
		return err
	}
	defer bt.b.release()
	if _, err := bt.b.core.Append(ctx, bt.blocks...); err != nil {
		return fmt.Errorf("hyperblobs: flush: %w", err)
	}
	bt.blocks, bt.bytes = nil, 0
	return nil
}
