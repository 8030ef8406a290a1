package hyperdrive

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gopear/gopear/hyperbee"
)

// ErrWatcherClosed is returned by [Watcher.Next] once the watcher is
// closed, or once its drive is.
var ErrWatcherClosed = errors.New("hyperdrive: watcher closed")

// WatchUpdate is a change [Watcher.Next] reports: checkouts of the drive
// after and before the change, which differ under the watched folder (JS
// yields them as [current, previous]).
type WatchUpdate struct {
	Current, Previous *Drive
}

// Watcher reports the changes under a folder of a drive (JS
// drive.watch(folder)). It is made by [Drive.Watch] and must be closed.
// Its methods are safe for concurrent use.
type Watcher struct {
	d      *Drive
	bw     *hyperbee.Watcher
	closed chan struct{} // closed by Close
	once   sync.Once
}

// Watch watches folder ("/" or "" for the whole drive) of the live drive,
// from its version now, as JS drive.watch(folder) does: the range of
// folder's keys in the drive's bee, so that writes elsewhere do not wake
// it. Local writes and the growth of the db core by replication (or its
// truncation) are seen alike. Changes the consumer has not taken yet with
// [Watcher.Next] merge into one spanning them all. A checkout cannot be
// watched.
func (d *Drive) Watch(folder string) (*Watcher, error) {
	if d.checkout {
		return nil, fmt.Errorf("hyperdrive: only the live drive can be watched, not a checkout: %w", ErrReadOnly)
	}
	f, err := folderOf(folder)
	if err != nil {
		return nil, err
	}
	bw, err := d.files.Watch(prefixRange(f, "/"))
	if errors.Is(err, hyperbee.ErrClosed) {
		return nil, fmt.Errorf("hyperdrive: watching a closed drive: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return &Watcher{d: d, bw: bw, closed: make(chan struct{})}, nil
}

// Next waits for the next change under the folder and returns it. It
// returns ctx's error when ctx ends first, [ErrWatcherClosed] once the
// watcher or its drive is closed, and the error that stopped the watcher
// if one did (a failed read of the drive).
func (w *Watcher) Next(ctx context.Context) (WatchUpdate, error) {
	select {
	case <-w.closed:
		return WatchUpdate{}, ErrWatcherClosed
	default:
	}
	select {
	case <-w.closed:
		return WatchUpdate{}, ErrWatcherClosed
	case u, ok := <-w.bw.Updates():
		if !ok {
			if err := w.bw.Err(); err != nil {
				return WatchUpdate{}, fmt.Errorf("hyperdrive: watching: %w", err)
			}
			return WatchUpdate{}, ErrWatcherClosed
		}
		return WatchUpdate{
			Current:  w.d.Checkout(u.Current.Version()),
			Previous: w.d.Checkout(u.Previous.Version()),
		}, nil
	case <-ctx.Done():
		return WatchUpdate{}, ctx.Err()
	}
}

// Close stops the watcher: a Next waiting returns [ErrWatcherClosed]. It
// is idempotent.
func (w *Watcher) Close() error {
	w.once.Do(func() { close(w.closed) })
	return w.bw.Close()
}
