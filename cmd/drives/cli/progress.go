package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/schollz/progressbar/v3"
)

// downloadResult counts what [env.download] fetched.
type downloadResult struct {
	Files int    `json:"files"`
	Bytes uint64 `json:"bytes"`
}

// download fetches every block of drive version d (a checkout, or the
// live drive) from peers: the entries, then the content of every file,
// with a progress bar of the content's bytes on stderr when it is a
// terminal.
func (e *env) download(ctx context.Context, d *hyperdrive.Drive) (downloadResult, error) {
	var res downloadResult
	db := d.Core()
	if n := db.Length(); n > 0 {
		if err := db.Download(ctx, hypercore.Range{Start: 0, End: n}); err != nil {
			return res, fmt.Errorf("downloading the entries: %w", err)
		}
	}
	var total uint64
	for ent, err := range d.List(ctx, "/", nil) {
		if err != nil {
			return res, err
		}
		if ent.Value.Blob != nil {
			total += ent.Value.Blob.ByteLength
			res.Files++
		}
	}
	res.Bytes = total
	if total == 0 {
		return res, nil
	}
	var bar *progressbar.ProgressBar
	if e.stderrTerminal() && !e.json {
		bar = progressbar.NewOptions64(int64(total),
			progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription("Downloading"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionSetWidth(20),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
		)
		defer bar.Exit()
		if b, err := d.Blobs(ctx); err == nil {
			if c, ok := b.Core().(*hypercore.Core); ok {
				stop := c.Watch(func(ev hypercore.Event) {
					if ev.Kind == hypercore.EventDownload {
						bar.Add64(int64(ev.Bytes))
					}
				})
				defer stop()
			}
		}
	}
	if err := d.Download(ctx, "/", nil); err != nil {
		return res, err
	}
	if bar != nil {
		bar.Finish()
	}
	return res, nil
}
