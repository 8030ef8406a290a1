package hypercore

import (
	"context"
	"fmt"

	"github.com/gopear/gopear/hypercore/internal/storage"
)

// AppendResult is what [Core.Append] returns: the core's length and byte
// length right after the append.
type AppendResult struct {
	// Length is the number of blocks after the append; the appended blocks
	// are Length-n ... Length-1.
	Length uint64
	// ByteLength is the byte length after the append, without encryption
	// padding, as [Core.ByteLength] counts it. (JS's append result counts
	// the padding; ours agrees with ByteLength instead.)
	ByteLength uint64
}

// Append appends blocks to the core and returns its new length and byte
// length. The blocks, their tree nodes, the bitfield and the new signed
// head are written in one atomic batch: after a crash the core has either
// all of the blocks or none (and with the default Options, an append that
// returned is on disk). Blocks of an encrypted core are encrypted first,
// with the current fork. Appending no blocks returns the current state.
//
// It fails with [ErrNotWritable] on a core without its key pair or on a
// snapshot, and [ErrBlockTooLarge] for a block over [MaxBlockSize]. Append
// does not keep the blocks' memory.
func (c *Core) Append(ctx context.Context, blocks ...[]byte) (AppendResult, error) {
	if err := c.check(); err != nil {
		return AppendResult{}, err
	}
	if c.snap != nil {
		return AppendResult{}, fmt.Errorf("%w: a snapshot is read-only", ErrNotWritable)
	}
	for _, b := range blocks {
		if len(b) > MaxBlockSize {
			return AppendResult{}, fmt.Errorf("%w: %d bytes", ErrBlockTooLarge, len(b))
		}
	}
	if err := ctx.Err(); err != nil {
		return AppendResult{}, err
	}
	st := c.st
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if err := st.checkOpen(); err != nil {
		return AppendResult{}, err
	}
	kp := st.keyPair
	if kp == nil || st.verifier == nil {
		return AppendResult{}, ErrNotWritable
	}
	start := st.tree.Length()
	if len(blocks) == 0 {
		_, length, bl := st.infoLocked()
		return AppendResult{Length: length, ByteLength: bl}, nil
	}

	data := blocks
	if st.enc != nil {
		fork := st.tree.Fork()
		data = make([][]byte, len(blocks))
		for i, b := range blocks {
			e := make([]byte, EncryptionPadding+len(b))
			copy(e[EncryptionPadding:], b)
			st.enc.Encrypt(start+uint64(i), fork, e)
			data[i] = e
		}
	}

	b := st.tree.Batch()
	b.Append(data...)
	end := b.Length()
	if p := st.manifest.Prologue; p != nil && end < p.Length {
		return AppendResult{}, fmt.Errorf("%w: appending to length %d, below the prologue's %d", ErrOutOfBounds, end, p.Length)
	}
	sig, err := st.sign(b, kp)
	if err != nil {
		return AppendResult{}, err
	}
	b.SetSignature(sig)

	err = st.commit(b, func(sb *storage.Batch) {
		// In key order: head, blocks, bitfield (see commit).
		sb.SetHead(st.id, headOf(b))
		for i, d := range data {
			sb.PutBlock(st.id, start+uint64(i), d)
		}
		st.putBits(sb, start, end, true)
	}, func() {
		st.bits.SetRange(start, end, true)
		st.signalLocked()
		if st.repl != nil {
			st.repl.onAppend(start, end)
		}
	})
	if err != nil {
		return AppendResult{}, err
	}
	fork, length, bl := st.info()
	st.events.emit(Event{Kind: EventAppend, Fork: fork, Length: length, ByteLength: bl, Start: start})
	return AppendResult{Length: length, ByteLength: bl}, nil
}

// Truncate cuts the core to length blocks and moves it to a new fork, with
// a new signature (JS truncate): blocks, tree nodes and bitfield bits past
// length are deleted in one batch. The fork becomes opts.Fork, or the
// current fork plus one. Snapshots made before keep the blocks they held.
//
// It fails with [ErrNotWritable] on a core without its key pair or on a
// snapshot, and [ErrOutOfBounds] for a length above the core's or below a
// prologue.
func (c *Core) Truncate(ctx context.Context, length uint64, opts *TruncateOptions) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.snap != nil {
		return fmt.Errorf("%w: a snapshot is read-only", ErrNotWritable)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st := c.st
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if err := st.checkOpen(); err != nil {
		return err
	}
	kp := st.keyPair
	if kp == nil || st.verifier == nil {
		return ErrNotWritable
	}
	old := st.tree.Length()
	if length > old {
		return fmt.Errorf("%w: truncating length %d to %d", ErrOutOfBounds, old, length)
	}
	if p := st.manifest.Prologue; p != nil && length < p.Length {
		return fmt.Errorf("%w: truncating to %d breaks the prologue of length %d", ErrOutOfBounds, length, p.Length)
	}
	fork := st.tree.Fork() + 1
	if opts != nil && opts.Fork != 0 {
		if opts.Fork < st.tree.Fork() {
			return fmt.Errorf("%w: fork %d is below the current fork %d", ErrOutOfBounds, opts.Fork, st.tree.Fork())
		}
		fork = opts.Fork
	}
	b, err := st.tree.Truncate(length, fork)
	if err != nil {
		return err
	}
	sig, err := st.sign(b, kp)
	if err != nil {
		return err
	}
	b.SetSignature(sig)

	err = st.commit(b, func(sb *storage.Batch) {
		sb.DeleteBlockRange(st.id, length, old)
		st.putBits(sb, length, old, false)
		sb.SetHead(st.id, headOf(b))
	}, func() {
		st.bits.SetRange(length, old, false)
		for s := range st.snaps {
			s.compat = min(s.compat, length)
		}
		st.signalLocked()
		if st.repl != nil {
			st.repl.onTruncate(length, old)
		}
	})
	if err != nil {
		return err
	}
	_, _, bl := st.info()
	st.events.emit(Event{Kind: EventTruncate, Fork: fork, Length: length, ByteLength: bl, Start: length})
	return nil
}

// Clear deletes the locally stored blocks [start, end) (JS clear): they
// are dropped from storage and from the bitfield, to be fetched from peers
// again if needed. The tree is kept, so the core still verifies and can
// prove other blocks; unlike JS, no tree node is deleted. end is clamped to
// the length. Clearing does not need the key pair.
func (c *Core) Clear(ctx context.Context, start, end uint64) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.snap != nil {
		return fmt.Errorf("%w: a snapshot is read-only", ErrNotWritable)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st := c.st
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if err := st.checkOpen(); err != nil {
		return err
	}
	end = min(end, st.tree.Length())
	if start >= end {
		return nil
	}
	sb := st.store.db.NewBatch()
	sb.DeleteBlockRange(st.id, start, end)
	st.putBits(sb, start, end, false)
	if err := sb.Commit(); err != nil {
		return fmt.Errorf("hypercore: clear: %w", notFound(err))
	}
	st.mu.Lock()
	st.bits.SetRange(start, end, false)
	st.signalLocked()
	if st.repl != nil {
		st.repl.onClear(start, end)
	}
	st.mu.Unlock()
	return nil
}

// SetUserData stores value under key in the core's user data, a small
// key-value store beside the blocks that is never replicated (JS
// setUserData). A nil value deletes the key.
func (c *Core) SetUserData(ctx context.Context, key string, value []byte) error {
	if err := c.check(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st := c.st
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if err := st.checkOpen(); err != nil {
		return err
	}
	sb := st.store.db.NewBatch()
	if value == nil {
		sb.DeleteUserData(st.id, key)
	} else {
		sb.PutUserData(st.id, key, value)
	}
	if err := sb.Commit(); err != nil {
		return fmt.Errorf("hypercore: user data: %w", notFound(err))
	}
	return nil
}

// GetUserData returns the user data value stored under key, or
// [ErrNotFound]. A snapshot reads the value as of the snapshot.
func (c *Core) GetUserData(ctx context.Context, key string) ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	sc := c.st.sc
	if c.snap != nil {
		sc = c.snap.sc
	}
	v, err := sc.UserData(key)
	return v, notFound(err)
}
