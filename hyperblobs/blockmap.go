package hyperblobs

import (
	"context"
	"fmt"

	"github.com/gopear/gopear/cenc"
)

// The block map of hyperblobs lib/block-map.js: each block of a block map
// id is uint version (0) ‖ uint count ‖ count × (uint index ‖ uint
// byteLength), compact-encoding, at most blockMapPerBlock entries a block
// and at most maxBlockMapBlocks blocks (PROTOCOLS.md §7.1).
const (
	blockMapPerBlock  = 8192
	maxBlockMapBlocks = 64
)

// BlockRef is one content block of a block map: its index in the core and
// its length.
type BlockRef struct {
	Index      uint64
	ByteLength uint64
}

// encodeBlockMap returns the blocks that store refs, as JS encodes them.
func encodeBlockMap(refs []BlockRef) [][]byte {
	var out [][]byte
	for i := 0; i < len(refs); i += blockMapPerBlock {
		part := refs[i:min(i+blockMapPerBlock, len(refs))]
		b := make([]byte, 0, 1+cenc.UintLen(uint64(len(part)))+len(part)*8)
		b = cenc.AppendUint(b, 0)
		b = cenc.AppendUint(b, uint64(len(part)))
		for _, r := range part {
			b = cenc.AppendUint(cenc.AppendUint(b, r.Index), r.ByteLength)
		}
		out = append(out, b)
	}
	return out
}

// decodeBlockMap decodes the blocks of a block map, in order.
func decodeBlockMap(blocks [][]byte) ([]BlockRef, error) {
	var refs []BlockRef
	for i, blk := range blocks {
		d := cenc.NewDecoder(blk)
		if v := d.Uint(); d.Err() == nil && v != 0 {
			return nil, fmt.Errorf("%w: block %d: unsupported version %d", ErrCorrupt, i, v)
		}
		n := d.Uint()
		// Each entry takes at least two bytes: bound n before allocating.
		if d.Err() == nil && n > uint64(d.Remaining()/2) {
			return nil, fmt.Errorf("%w: block %d: %d entries in %d bytes", ErrCorrupt, i, n, d.Remaining())
		}
		for j := uint64(0); j < n && d.Err() == nil; j++ {
			refs = append(refs, BlockRef{Index: d.Uint(), ByteLength: d.Uint()})
		}
		if err := d.Err(); err != nil {
			return nil, fmt.Errorf("%w: block %d: %w", ErrCorrupt, i, err)
		}
	}
	return refs, nil
}

// BlockMap returns the content blocks of blob id in order (JS
// getBlockMap): for a block map id the map its blocks hold, for any other
// id its own blocks with their lengths (read from the core).
func (b *Blobs) BlockMap(ctx context.Context, id ID, opts *GetOptions) ([]BlockRef, error) {
	end, err := id.end()
	if err != nil {
		return nil, err
	}
	if id.BlockMap && id.BlockLength > maxBlockMapBlocks {
		return nil, fmt.Errorf("%w: %d blocks (at most %d)", ErrCorrupt, id.BlockLength, maxBlockMapBlocks)
	}
	blocks := make([][]byte, 0, min(id.BlockLength, 1024))
	for i := id.BlockOffset; i < end; i++ {
		blk, err := b.core.Get(ctx, i, opts)
		if err != nil {
			return nil, fmt.Errorf("hyperblobs: get block %d: %w", i, err)
		}
		blocks = append(blocks, blk)
	}
	if id.BlockMap {
		return decodeBlockMap(blocks)
	}
	refs := make([]BlockRef, len(blocks))
	for i, blk := range blocks {
		refs[i] = BlockRef{Index: id.BlockOffset + uint64(i), ByteLength: uint64(len(blk))}
	}
	return refs, nil
}
