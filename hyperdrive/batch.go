package hyperdrive

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/gopear/gopear/hyperbee"
	"github.com/gopear/gopear/hyperblobs"
)

// Batch groups entry writes into one append of the db core (JS
// drive.batch()): its puts, symlinks and deletions are seen by its own
// Entry and reach the drive at Flush. File contents are written to the
// blobs core at once, as in JS. The first write takes the drive's write
// lock until Flush or Close, so a batch must be ended with one of them.
//
// A Batch is safe for concurrent use.
type Batch struct {
	d  *Drive
	bt *hyperbee.Batch
}

// Batch starts a batch of writes.
func (d *Drive) Batch() *Batch {
	return &Batch{d: d, bt: d.files.Batch()}
}

func (b *Batch) putValue(ctx context.Context, name string, v EntryValue) error {
	if err := b.d.checkWritable(); err != nil {
		return err
	}
	p, err := NormalizePath(name)
	if err != nil {
		return err
	}
	enc, err := encodeValue(v)
	if err != nil {
		return err
	}
	return b.bt.Put(ctx, []byte(p), enc)
}

// Put writes data as file name's content: the blob now, the entry at
// Flush.
func (b *Batch) Put(ctx context.Context, name string, data []byte, opts *PutOptions) error {
	if err := b.d.checkWritable(); err != nil {
		return err
	}
	v, err := b.d.putBlob(ctx, data, opts)
	if err != nil {
		return err
	}
	return b.putValue(ctx, name, v)
}

// PutEntry writes an entry value as it is.
func (b *Batch) PutEntry(ctx context.Context, name string, v EntryValue) error {
	return b.putValue(ctx, name, v)
}

// Symlink makes name a link to linkname, with optional metadata.
func (b *Batch) Symlink(ctx context.Context, name, linkname string, metadata json.RawMessage) error {
	return b.putValue(ctx, name, EntryValue{Linkname: linkname, Metadata: metadata})
}

// Del deletes name's entry.
func (b *Batch) Del(ctx context.Context, name string) error {
	if err := b.d.checkWritable(); err != nil {
		return err
	}
	p, err := NormalizePath(name)
	if err != nil {
		return err
	}
	return b.bt.Del(ctx, []byte(p))
}

// Entry returns name's entry as the batch sees it, or nil.
func (b *Batch) Entry(ctx context.Context, name string) (*Entry, error) {
	p, err := NormalizePath(name)
	if err != nil {
		return nil, err
	}
	e, err := b.bt.Get(ctx, []byte(p))
	if errors.Is(err, hyperbee.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeEntry(e)
}

// Flush appends the batch's entries in one append (JS batch.flush()).
func (b *Batch) Flush(ctx context.Context) error { return b.bt.Flush(ctx) }

// Close discards the entries not flushed (their blobs stay in the blobs
// core) and releases the lock.
func (b *Batch) Close() error { return b.bt.Close() }

// Blobs returns the drive's blob store.
func (b *Batch) Blobs(ctx context.Context) (*hyperblobs.Blobs, error) {
	return b.d.getBlobs(ctx, false)
}
