package hypercore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hypercore/internal/storage"
)

// Get returns block index, decrypted if the core is encrypted (unless
// opts.Raw). A block stored locally is read at once. Otherwise, unless
// opts.NoWait, Get asks the core's peers for it and waits until it has
// been downloaded and verified, the context is done, the timeout expires
// or the session closes (JS get); with no peers it waits for one, as JS
// does, and a local append of the block also ends the wait. With NoWait it
// returns [ErrNotAvailable].
//
// A snapshot reads the block as it was when the snapshot was made; see
// [Core.Snapshot] for [ErrSnapshotNotAvailable]. The returned slice is the
// caller's.
func (c *Core) Get(ctx context.Context, index uint64, opts *GetOptions) ([]byte, error) {
	b, err := c.AppendBlock(ctx, nil, index, opts)
	if err == nil && b == nil {
		b = []byte{}
	}
	return b, err
}

// AppendBlock is [Core.Get] appending the block to dst: it returns the
// extended slice, so that a caller reading many blocks can reuse one
// buffer. On error it returns dst unchanged.
func (c *Core) AppendBlock(ctx context.Context, dst []byte, index uint64, opts *GetOptions) ([]byte, error) {
	if opts == nil {
		opts = &GetOptions{}
	}
	if err := c.check(); err != nil {
		return dst, err
	}
	b, ok, err := c.local(dst, index)
	if err == nil && !ok {
		if opts.NoWait {
			return dst, fmt.Errorf("%w: block %d", ErrNotAvailable, index)
		}
		b, err = c.wait(ctx, dst, index, opts)
	}
	if err != nil {
		return dst, err
	}
	return c.decode(index, b, len(dst), opts.Raw)
}

// local appends the block to dst if it is stored locally; ok is false if
// it is not.
func (c *Core) local(dst []byte, index uint64) (b []byte, ok bool, err error) {
	if c.snap != nil {
		return c.snap.appendBlock(dst, index)
	}
	st := c.st
	st.mu.RLock()
	has := st.bits.Get(index)
	st.mu.RUnlock()
	if !has {
		return dst, false, nil
	}
	b, err = st.sc.AppendBlock(dst, index)
	if errors.Is(err, storage.ErrNotFound) {
		if err := st.checkOpen(); err != nil {
			return dst, false, err // purged meanwhile
		}
		return dst, false, nil // cleared or truncated since
	}
	if err != nil {
		return dst, false, notFound(err)
	}
	return b, true, nil
}

// decode decrypts the stored block at b[off:] in place unless raw, and
// returns b with the plaintext from off.
func (c *Core) decode(index uint64, b []byte, off int, raw bool) ([]byte, error) {
	if raw {
		return b, nil
	}
	c.st.mu.RLock()
	enc := c.st.enc
	c.st.mu.RUnlock()
	if enc == nil {
		return b, nil
	}
	plain, err := enc.Decrypt(index, b[off:])
	if err != nil {
		return b[:off], err
	}
	return b[:off+copy(b[off:], plain)], nil
}

// wait waits for block index to be stored: it asks the replicator, if one
// is attached, and watches the core for the block to arrive by any path.
func (c *Core) wait(ctx context.Context, dst []byte, index uint64, opts *GetOptions) ([]byte, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	fetched := c.st.fetch(ctx, index)
	defer func() {
		cancel()
		fetched.wait()
	}()
	for {
		c.st.mu.RLock()
		changed := c.st.changed
		c.st.mu.RUnlock()
		b, ok, err := c.local(dst, index)
		if err != nil || ok {
			return b, err
		}
		if err := c.check(); err != nil {
			return nil, err
		}
		select {
		case <-changed:
			if fetched.err == nil {
				// Replication may have been attached since.
				fetched = c.st.fetch(ctx, index)
			}
		case err := <-fetched.err:
			if err != nil && ctx.Err() == nil {
				return nil, err
			}
			// The replicator reports the block stored: the next local
			// read finds it (or, in a race with a clear, asks again).
			fetched.wait()
			fetched = c.st.fetch(ctx, index)
		case <-ctx.Done():
			return nil, fmt.Errorf("hypercore: waiting for block %d: %w", index, ctx.Err())
		case <-c.done:
			return nil, ErrClosed
		}
	}
}

// Has reports whether every block in [start, end) is stored locally (JS
// has). An empty range has them all.
func (c *Core) Has(ctx context.Context, start, end uint64) (bool, error) {
	if err := c.check(); err != nil {
		return false, err
	}
	if end <= start {
		return true, nil
	}
	if c.snap != nil {
		for i := start; i < end; i++ {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			ok, err := c.snap.has(i)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return !c.st.bits.HasUnset(start, end), nil
}

// ContiguousLength returns how many blocks from the start are all stored
// locally (at most the length).
func (c *Core) ContiguousLength() uint64 {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	n := min(c.st.bits.ContiguousLength(), c.st.tree.Length())
	if c.snap != nil {
		n = min(n, c.snap.length)
	}
	return n
}

// Seek returns the block holding byte offset bytes of the core's data and
// the offset inside that block (JS seek): bytes are counted without the
// padding of encryption. The offset at the very end of the data gives
// (Length, 0). When a tree node on the way is not stored, or the offset is
// past the end, Seek waits for peers as [Core.Get] does, unless
// opts.NoWait, which returns [ErrNotAvailable].
func (c *Core) Seek(ctx context.Context, bytes uint64, opts *GetOptions) (index, offset uint64, err error) {
	if opts == nil {
		opts = &GetOptions{}
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	for {
		if err := c.check(); err != nil {
			return 0, 0, err
		}
		st := c.st
		st.mu.RLock()
		changed := st.changed
		padding := st.paddingLocked()
		tree := st.tree
		if c.snap != nil {
			tree = c.snap.tree
		}
		res, err := tree.Seek(bytes, padding)
		st.mu.RUnlock()
		if err != nil {
			return 0, 0, fmt.Errorf("%w: seek to %d: %w", ErrOutOfBounds, bytes, err)
		}
		if res.Found {
			return res.Block, res.Offset, nil
		}
		if opts.NoWait || c.snap != nil {
			return 0, 0, fmt.Errorf("%w: byte %d", ErrNotAvailable, bytes)
		}
		// Ask for the blocks under the missing node (their proofs bring the
		// nodes); past the end, wait for the core to grow.
		if res.Start < res.End {
			if err := c.st.download(ctx, res.Start, min(res.Start+1, res.End)); err != nil {
				return 0, 0, err
			}
			continue
		}
		if err := waitChanged(ctx, changed, c.done); err != nil {
			return 0, 0, fmt.Errorf("hypercore: seeking to byte %d: %w", bytes, err)
		}
	}
}

// TreeHash returns the hash of the tree's roots at the session's length:
// the hash the core's signature signs (JS treeHash()).
func (c *Core) TreeHash() ([32]byte, error) {
	if err := c.check(); err != nil {
		return [32]byte{}, err
	}
	if c.snap != nil {
		return c.snap.tree.Hash(), nil
	}
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return c.st.tree.Hash(), nil
}

// Signature returns the signature of the tree at the session's length
// (multisig-wrapped for manifest version 1 and above), or nil for an empty
// core.
func (c *Core) Signature() []byte {
	if c.snap != nil {
		return append([]byte(nil), c.snap.tree.Signature()...)
	}
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return append([]byte(nil), c.st.tree.Signature()...)
}

// Update asks the core's peers whether they have a longer signed length
// and, if one does, downloads its proof; it reports whether the length
// changed (JS update({ wait: true })). It returns false once the peers
// that can be asked have answered that they have nothing newer. A
// writable core (unless opts.Force) and a snapshot return false at once,
// and so does a core with no peers.
func (c *Core) Update(ctx context.Context, opts *UpdateOptions) (bool, error) {
	if opts == nil {
		opts = &UpdateOptions{}
	}
	if err := c.check(); err != nil {
		return false, err
	}
	if c.snap != nil || (c.Writable() && !opts.Force) {
		return false, nil
	}
	return c.st.update(ctx, opts)
}

// Download fetches the blocks of r from peers and returns once they are
// all stored locally, the context is done or the session closes (JS
// download(range).done()). Blocks already stored are not fetched again.
func (c *Core) Download(ctx context.Context, r Range) error {
	if err := c.check(); err != nil {
		return err
	}
	end := r.End
	if end == 0 {
		end = c.Length()
	}
	if r.Start >= end {
		return nil
	}
	ok, err := c.Has(ctx, r.Start, end)
	if err != nil || ok {
		return err
	}
	return c.st.download(ctx, r.Start, end)
}
