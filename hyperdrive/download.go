package hyperdrive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

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
	// goroutine, in the order the files are listed.
	Progress func(DownloadProgress)
}

// Download fetches the content of every file under folder ("" or "/" for
// the whole drive; a file's own path for that file) from peers, and
// returns once it is all stored locally (JS download(folder).done()).
// Listing the folder fetches the entries; for the whole drive, the db
// core is fetched first in one range ([Drive.DownloadMetadata]). The
// content is then fetched as [Drive.DownloadEntries] does. Blocks already
// stored are not fetched again.
func (d *Drive) Download(ctx context.Context, folder string, opts *DownloadOptions) error {
	if opts == nil {
		opts = &DownloadOptions{}
	}
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return err
	}
	var entries []*Entry
	f, ferr := folderOf(folder)
	if ferr == nil && f != "" && (len(folder) == 0 || folder[len(folder)-1] != '/') {
		e, err := d.Entry(ctx, f)
		if err != nil {
			return err
		}
		if e != nil {
			entries = append(entries, e)
		}
	}
	if entries == nil {
		if ferr == nil && f == "" {
			if err := d.DownloadMetadata(ctx); err != nil {
				return err
			}
		}
		for e, err := range d.List(ctx, folder, nil) {
			if err != nil {
				return err
			}
			if e.Value.Blob != nil && e.Value.Blob.BlockLength > 0 {
				entries = append(entries, e)
			}
		}
	}
	if opts.Progress == nil {
		return d.DownloadEntries(ctx, entries)
	}

	// All of it is requested at once; the files are then waited for one
	// by one, to report each as it completes.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	all := make(chan error, 1)
	go func() {
		err := d.DownloadEntries(ctx, entries)
		if err != nil {
			cancel(err)
		}
		all <- err
	}()
	p := DownloadProgress{TotalFiles: len(entries)}
	for _, e := range entries {
		blob := e.Value.Blob
		if blob == nil || blob.BlockLength == 0 {
			continue
		}
		if err := downloadBlob(ctx, blobs, hyperblobs.ID(*blob)); err != nil {
			if cause := context.Cause(ctx); cause != nil {
				err = cause
			}
			cancel(err)
			<-all
			return fmt.Errorf("hyperdrive: download %s: %w", e.Key, err)
		}
		p.Files++
		p.Blocks += blob.BlockLength
		p.Bytes += blob.ByteLength
		p.Key = e.Key
		opts.Progress(p)
	}
	return <-all
}

// DownloadMetadata fetches from peers every block of the db core up to
// the drive's version, as one pipelined range, and returns once they are
// stored locally: all that listing the drive, or looking up any of its
// entries, reads (JS prefetches the same range in getBlobsLength). Blocks
// already stored are not fetched again.
func (d *Drive) DownloadMetadata(ctx context.Context) error {
	return d.sh.db.Download(ctx, hypercore.Range{Start: 0, End: d.Version()})
}

// downloadParallel bounds the ranges [Drive.DownloadEntries] fetches at
// once. Each range is itself pipelined by the replicator; several at once
// keep the pipeline full when the ranges are short (files of a block).
const downloadParallel = 16

// DownloadEntries fetches the content of entries from peers (their blobs;
// for a block map, the map and then the blocks it lists) and returns once
// it is all stored locally, or on the first error. Blobs that lie next to
// each other in the blobs core are fetched as one range, and several
// ranges at once, so that requests stay pipelined however small the
// files. Entries without content (links, empty files) are skipped; blocks
// already stored are not fetched again.
func (d *Drive) DownloadEntries(ctx context.Context, entries []*Entry) error {
	var ranges, maps []hypercore.Range
	var mapIDs []hyperblobs.ID
	for _, e := range entries {
		b := e.Value.Blob
		if b == nil || b.BlockLength == 0 {
			continue
		}
		r := hypercore.Range{Start: b.BlockOffset, End: b.BlockOffset + b.BlockLength}
		if r.End < r.Start {
			return fmt.Errorf("hyperdrive: download %s: %w: %+v", e.Key, hyperblobs.ErrBadID, *b)
		}
		if b.BlockMap {
			maps = append(maps, r)
			mapIDs = append(mapIDs, hyperblobs.ID(*b))
			continue
		}
		ranges = append(ranges, r)
	}
	if len(ranges) == 0 && len(maps) == 0 {
		return nil
	}
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return err
	}
	core, ok := blobs.Core().(*hypercore.Core)
	if !ok {
		return errors.New("hyperdrive: blobs core cannot download")
	}
	if len(maps) > 0 {
		// The maps first: they say which blocks hold the content.
		if err := downloadRanges(ctx, core, mergeRanges(maps)); err != nil {
			return err
		}
		for _, id := range mapIDs {
			refs, err := blobs.BlockMap(ctx, id, nil)
			if err != nil {
				return err
			}
			for _, r := range refs {
				ranges = append(ranges, hypercore.Range{Start: r.Index, End: r.Index + 1})
			}
		}
	}
	return downloadRanges(ctx, core, mergeRanges(ranges))
}

// mergeRanges sorts ranges and joins those that overlap or touch.
func mergeRanges(rs []hypercore.Range) []hypercore.Range {
	slices.SortFunc(rs, func(a, b hypercore.Range) int { return cmp.Compare(a.Start, b.Start) })
	out := rs[:0]
	for _, r := range rs {
		if r.End <= r.Start {
			continue
		}
		if n := len(out); n > 0 && r.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

// downloadRanges downloads rs from core, up to downloadParallel ranges at
// once, and returns the first error.
func downloadRanges(ctx context.Context, core *hypercore.Core, rs []hypercore.Range) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, downloadParallel)
	var wg sync.WaitGroup
	for _, r := range rs {
		if has, err := core.Has(ctx, r.Start, r.End); err == nil && has {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := core.Download(ctx, r); err != nil {
				cancel(fmt.Errorf("hyperdrive: download blocks [%d, %d): %w", r.Start, r.End, err))
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// downloadBlob fetches a blob's blocks (and, for a block map, the map's
// content blocks).
func downloadBlob(ctx context.Context, blobs *hyperblobs.Blobs, id hyperblobs.ID) error {
	core, ok := blobs.Core().(*hypercore.Core)
	if !ok {
		return errors.New("hyperdrive: blobs core cannot download")
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
