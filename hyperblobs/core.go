package hyperblobs

import (
	"context"

	"github.com/gopear/gopear/hypercore"
)

// Core is what a blob store needs from the log its blocks live in.
// *hypercore.Core satisfies it; so does any append-only log of byte blocks
// that can find the block holding a byte offset.
//
//   - Get returns block index, waiting for it as the options say (for a
//     hypercore: until a peer sends it, unless NoWait).
//   - Append appends blocks atomically.
//   - Length and ByteLength are the number of blocks and of bytes.
//   - Seek returns the block holding byte offset bytes of the log and the
//     offset inside that block; the very end of the data gives (Length, 0).
//   - Clear drops the local copies of blocks [start, end).
//
// A Core may also have these methods, which the store then uses (each as
// *hypercore.Core has it):
//
//	Has(ctx context.Context, start, end uint64) (bool, error) // skip a download of blocks held
//	Download(ctx context.Context, r hypercore.Range) error    // prefetch a blob's blocks
//	AppendBlock(ctx context.Context, dst []byte, index uint64,
//		opts *hypercore.GetOptions) ([]byte, error) // read into a reused buffer
type Core interface {
	Get(ctx context.Context, index uint64, opts *hypercore.GetOptions) ([]byte, error)
	Append(ctx context.Context, blocks ...[]byte) (hypercore.AppendResult, error)
	Length() uint64
	ByteLength() uint64
	Seek(ctx context.Context, bytes uint64, opts *hypercore.GetOptions) (index, offset uint64, err error)
	Clear(ctx context.Context, start, end uint64) error
}

var (
	_ Core       = (*hypercore.Core)(nil)
	_ appendCore = (*hypercore.Core)(nil)
)

// hasCore is the optional Has of a Core.
type hasCore interface {
	Has(ctx context.Context, start, end uint64) (bool, error)
}

// appendCore is the optional AppendBlock of a Core: Get appending to a
// buffer, which a reader reuses.
type appendCore interface {
	AppendBlock(ctx context.Context, dst []byte, index uint64, opts *hypercore.GetOptions) ([]byte, error)
}

// downloadCore is the optional Download of a Core.
type downloadCore interface {
	Download(ctx context.Context, r hypercore.Range) error
}

// download makes sure blocks [start, end) are stored locally before they
// are read one by one, when the core can tell and fetch: one ranged
// request instead of a round trip per block. Errors are left to the reads.
func download(ctx context.Context, c Core, start, end uint64) {
	if end <= start {
		return
	}
	if h, ok := c.(hasCore); ok {
		if has, err := h.Has(ctx, start, end); err == nil && has {
			return
		}
	}
	if d, ok := c.(downloadCore); ok {
		_ = d.Download(ctx, hypercore.Range{Start: start, End: end})
	}
}
