package storage

import (
	"fmt"
	"slices"

	"github.com/minio/minlz"
)

// Block values of format version 2 start with a tag: blockRaw, then the
// block as it is, or blockMinLZ, then the block compressed with MinLZ
// (github.com/minio/minlz, block format). A block is compressed when that
// saves at least an eighth of it. Compressed before the batch, a block
// costs that much less in the WAL, the memtable, flushes and compactions
// (with blocks of text or structured data, half the CPU and more of an
// append-heavy workload went to writing those bytes); encrypted and
// already compressed blocks fail the test quickly and are stored raw.
//
// A database migrated from format version 1 keeps its blocks untagged
// (metaRawBlocks), and writes new ones untagged too.
const (
	blockRaw   = 0x00
	blockMinLZ = 0x01

	// minCompress is the smallest block worth trying to compress.
	minCompress = 64
)

// appendBlockValue appends the stored value of block data to dst.
func appendBlockValue(dst, data []byte) []byte {
	if m := minlz.MaxEncodedLen(len(data)); len(data) >= minCompress && m > 0 {
		n := len(dst)
		dst = slices.Grow(dst, 1+m)
		buf := dst[n+1 : n+1+m]
		if c := minlz.TryEncode(buf, data, minlz.LevelFastest); c != nil && len(c) <= len(data)-len(data)/8 {
			dst = append(dst, blockMinLZ)
			if &c[0] != &buf[0] {
				return append(dst, c...)
			}
			return dst[:n+1+len(c)]
		}
	}
	return append(append(dst, blockRaw), data...)
}

// appendBlock appends the block stored as value v to dst, tagged or not
// as the database keeps its blocks.
func (db *DB) appendBlock(dst, v []byte) ([]byte, error) {
	if db.rawBlocks {
		return append(dst, v...), nil
	}
	return appendBlockData(dst, v)
}

// appendBlockIn decodes the block stored as value v into the free
// capacity of *buf, extending *buf over it, and returns it; when it does
// not fit, it returns a new slice and leaves *buf alone.
func (db *DB) appendBlockIn(buf *[]byte, v []byte) ([]byte, error) {
	n := len(*buf)
	if size, err := db.blockSize(v); err != nil || size > cap(*buf)-n {
		return db.appendBlock([]byte{}, v)
	}
	out, err := db.appendBlock(*buf, v)
	if err != nil {
		return nil, err
	}
	*buf = out
	return out[n:len(out):len(out)], nil
}

// blockSize returns the size of the block stored as value v, or an error
// for a value that does not say.
func (db *DB) blockSize(v []byte) (int, error) {
	if db.rawBlocks {
		return len(v), nil
	}
	if len(v) > 0 && v[0] == blockMinLZ {
		return minlz.DecodedLen(v[1:])
	}
	return len(v) - 1, nil
}

// appendBlockData appends the block stored as value v to dst.
func appendBlockData(dst, v []byte) ([]byte, error) {
	if len(v) == 0 {
		return dst, fmt.Errorf("%w: block value without its tag", ErrCorrupt)
	}
	switch v[0] {
	case blockRaw:
		return append(dst, v[1:]...), nil
	case blockMinLZ:
		out, err := minlz.AppendDecoded(dst, v[1:])
		if err != nil {
			return dst, fmt.Errorf("%w: block value: %v", ErrCorrupt, err)
		}
		return out, nil
	default:
		return dst, fmt.Errorf("%w: block value tag %#x", ErrCorrupt, v[0])
	}
}
