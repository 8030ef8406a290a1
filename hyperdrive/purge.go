package hyperdrive

import (
	"context"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hypercore"
)

// Purge closes the drive and deletes it from its store: the db core (the
// hyperbee of entries) and the blobs core (file contents), each with
// everything stored for it, key pair included (JS drive.purge()). Every
// session of the two cores closes, the drive's checkouts and batches
// stop working, and the cores' replication channels close. A later [New]
// with the drive's key finds nothing local: the drive is empty and
// read-only (its key pair went with the db core) until peers provide it.
// A New that derives the same key pair again (the "db" key pair of a
// corestore namespace) makes a new, empty writable drive with that key.
//
// The blobs core is purged when it is known locally (the drive's header is
// stored, or the db core's manifest gives the blobs core's key), as JS
// loads it before purging. When both cores are in one store (a corestore,
// or a *hypercore.Store) they are deleted in one storage batch, so a crash
// keeps both or neither (hypercore.Purge).
//
// Purge is for the live drive: on a checkout it fails with an error
// wrapping [ErrReadOnly] (JS "Can only purge the main session"). After
// Purge the drive is closed, even when Purge fails; it returns
// hypercore.ErrClosed for a drive closed already.
func (d *Drive) Purge(ctx context.Context) error {
	if d.checkout {
		return fmt.Errorf("%w: only the live drive can be purged, not a checkout", ErrReadOnly)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Load the blobs core if it is known here, without waiting for peers.
	if _, err := d.getBlobs(ctx, true); err != nil && !errors.Is(err, hypercore.ErrNotAvailable) && !errors.Is(err, ErrNoBlobs) {
		return fmt.Errorf("hyperdrive: purge: %w", err)
	}
	sh := d.sh
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return hypercore.ErrClosed
	}
	sh.closed = true
	sh.cancel()
	cores := []*hypercore.Core{sh.db}
	if sh.blobsCore != nil {
		// Blobs first: if the two are in different stores, a crash between
		// the deletions leaves the drive, which a second purge finds,
		// rather than unreachable content.
		cores = []*hypercore.Core{sh.blobsCore, sh.db}
	}
	sh.mu.Unlock()

	errs := []error{sh.root.Close()}
	if err := hypercore.Purge(ctx, cores...); err != nil {
		errs = append(errs, fmt.Errorf("hyperdrive: purge: %w", err))
	}
	// Purge closed the sessions; if it failed before, close them here.
	for _, c := range cores {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
