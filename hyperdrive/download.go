package hyperdrive

import (
	"context"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hyperblobs"
	"github.com/gopear/gopear/hypercore"
)

// DownloadProgress is what [Drive.Download] reports after each file.
type DownloadProgress struct {
	// Files and TotalFiles count the files with content done and to do.
	Files, TotalFiles int
	// Blocks and Bytes count the content done so far.
	Blocks, Bytes uint64
	// Key is the file just done.
	Key string
}

// DownloadOptions configure [Drive.Download]. A nil *DownloadOptions
// means the defaults.
type DownloadOptions struct {
	// Progress, when not nil, is called after each file, in the calling
	// goroutine.
	Progress func(DownloadProgress)
}

// Download fetches the content of every file under folder ("" or "/" for
// the whole drive; a file's own path for that file) from peers, and
// returns once it is all stored locally (JS download(folder).done()).
// Listing the folder fetches the entries. Blocks already stored are not
// fetched again.
func (d *Drive) Download(ctx context.Context, folder string, opts *DownloadOptions) error {
	if opts == nil {
		opts = &DownloadOptions{}
	}
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return err
	}
	var entries []*Entry
	if f, err := folderOf(folder); err == nil && f != "" && (len(folder) == 0 || folder[len(folder)-1] != '/') {
		e, err := d.Entry(ctx, f)
		if err != nil {
			return err
		}
		if e != nil {
			entries = append(entries, e)
		}
	}
	if entries == nil {
		for e, err := range d.List(ctx, folder, nil) {
			if err != nil {
				return err
			}
			if e.Value.Blob != nil && e.Value.Blob.BlockLength > 0 {
				entries = append(entries, e)
			}
		}
	}
	p := DownloadProgress{TotalFiles: len(entries)}
	for _, e := range entries {
		blob := e.Value.Blob
		if blob == nil || blob.BlockLength == 0 {
			continue
		}
		if err := downloadBlob(ctx, blobs, hyperblobs.ID(*blob)); err != nil {
			return fmt.Errorf("hyperdrive: download %s: %w", e.Key, err)
		}
		p.Files++
		p.Blocks += blob.BlockLength
		p.Bytes += blob.ByteLength
		p.Key = e.Key
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	return nil
}

// downloadBlob fetches a blob's blocks (and, for a block map, the map's
// content blocks).
func downloadBlob(ctx context.Context, blobs *hyperblobs.Blobs, id hyperblobs.ID) error {
	core, ok := blobs.Core().(*hypercore.Core)
	if !ok {
		return errors.New("blobs core cannot download")
	}
	if err := core.Download(ctx, hypercore.Range{Start: id.BlockOffset, End: id.BlockOffset + id.BlockLength}); err != nil {
		return err
	}
	if !id.BlockMap {
		return nil
	}
	refs, err := blobs.BlockMap(ctx, id, nil)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if err := core.Download(ctx, hypercore.Range{Start: r.Index, End: r.Index + 1}); err != nil {
			return err
		}
	}
	return nil
}

// Has reports whether the content of file path, or of every file under
// folder path, is stored locally (JS has). A folder with no files, or a
// symbolic link, gives false.
func (d *Drive) Has(ctx context.Context, path string) (bool, error) {
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return false, err
	}
	if path != "" && path[len(path)-1] != '/' {
		e, err := d.Entry(ctx, path)
		if err != nil {
			return false, err
		}
		if e != nil {
			if e.Value.Blob == nil {
				return false, nil
			}
			return hasBlob(ctx, blobs, hyperblobs.ID(*e.Value.Blob))
		}
	}
	isDir := false
	for e, err := range d.List(ctx, path, nil) {
		if err != nil {
			return false, err
		}
		isDir = true
		if e.Value.Blob == nil {
			continue
		}
		if ok, err := hasBlob(ctx, blobs, hyperblobs.ID(*e.Value.Blob)); err != nil || !ok {
			return false, err
		}
	}
	return isDir, nil
}

func hasBlob(ctx context.Context, blobs *hyperblobs.Blobs, id hyperblobs.ID) (bool, error) {
	core, ok := blobs.Core().(*hypercore.Core)
	if !ok {
		return false, errors.New("hyperdrive: blobs core cannot tell what it has")
	}
	ok, err := core.Has(ctx, id.BlockOffset, id.BlockOffset+id.BlockLength)
	if err != nil || !ok || !id.BlockMap {
		return ok, err
	}
	refs, err := blobs.BlockMap(ctx, id, &hypercore.GetOptions{NoWait: true})
	if err != nil {
		return false, err
	}
	for _, r := range refs {
		if ok, err := core.Has(ctx, r.Index, r.Index+1); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// Clear drops the local copy of file name's content (JS clear); it stays
// in the drive, to be fetched again when read. A missing entry does
// nothing.
func (d *Drive) Clear(ctx context.Context, name string) error {
	e, err := d.Entry(ctx, name)
	if err != nil || e == nil || e.Value.Blob == nil {
		return err
	}
	blobs, err := d.getBlobs(ctx, true)
	if err != nil {
		return err
	}
	return blobs.Clear(ctx, hyperblobs.ID(*e.Value.Blob))
}

// ClearAll drops the local copy of every block of the blobs core (JS
// clearAll).
func (d *Drive) ClearAll(ctx context.Context) error {
	blobs, err := d.getBlobs(ctx, true)
	if err != nil {
		return err
	}
	c := blobs.Core()
	return c.Clear(ctx, 0, c.Length())
}

// BlobsLength returns the length the blobs core had at drive version
// version (JS getBlobsLength): the end of the last blob its entries
// reference. Version 0 means the current version.
func (d *Drive) BlobsLength(ctx context.Context, version uint64) (uint64, error) {
	c := d
	if version != 0 {
		c = d.Checkout(version)
	}
	var n uint64
	for e, err := range c.List(ctx, "/", nil) {
		if err != nil {
			return 0, err
		}
		if b := e.Value.Blob; b != nil && b.BlockOffset+b.BlockLength > n {
			n = b.BlockOffset + b.BlockLength
		}
	}
	return n, nil
}
