package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// DeleteCores deletes the cores with the discovery keys dks and everything
// stored for them: header (with the key pair and encryption key), head,
// blocks, tree nodes, bitfield pages and user data (one range deletion
// over each core's id), their entries in the discovery key index, and the
// aliases that name them (JS hypercore-storage deleteCore, which leaves
// aliases behind; dropping them here leaves nothing of the core).
//
// Everything is one batch, synced even when the DB was opened with
// NoSync: after a crash either every one of the cores is stored as before
// or none is. If one of dks is not stored, DeleteCores returns an error
// wrapping ErrNotFound and deletes nothing. A discovery key given twice is
// deleted once.
//
// The ids of deleted cores are never given out again (the counter only
// grows), so no later core can see what a deleted core left, not even
// writes of a batch that still named a deleted id and was committed after
// the deletion: no index entry or alias leads to that id any more. The
// caller (hypercore) makes sure no such batch is committed at all.
func (db *DB) DeleteCores(dks ...[32]byte) error {
	if !db.acquire() {
		return ErrClosed
	}
	defer db.release()
	// db.mu serialises this with CreateCore, so a core cannot be created
	// (or recreated) between the look-ups below and the commit.
	db.mu.Lock()
	defer db.mu.Unlock()

	ids := make(map[CoreID]bool, len(dks))
	b := db.pdb.NewBatch()
	defer b.Close()
	var errs []error
	seen := make(map[[32]byte]bool, len(dks))
	for _, dk := range dks {
		if seen[dk] {
			continue
		}
		seen[dk] = true
		key := dkeyKey(nil, &dk)
		v, err := db.getCopy(db.pdb, key)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("storage: delete core %x: %w", dk[:8], ErrNotFound)
		}
		if err != nil {
			return err
		}
		if len(v) != 8 {
			return fmt.Errorf("%w: core id is %d bytes", ErrCorrupt, len(v))
		}
		id := CoreID(binary.BigEndian.Uint64(v))
		ids[id] = true
		lo, hi := coreRange(id)
		errs = append(errs, b.DeleteRange(lo, hi, nil), b.Delete(key, nil))
	}
	if err := db.deleteAliasesOf(b, ids); err != nil {
		return err
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: delete cores: %w", err)
	}
	// Always synced, as creations are: a purge the caller was told about
	// must not come undone in a crash.
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("storage: delete cores: %w", err)
	}
	db.packs.dropCores(ids)
	return nil
}

// deleteAliasesOf adds to b the deletion of every alias that points to one
// of ids. Aliases are few (one per named core) and have no reverse index,
// so it scans them all.
func (db *DB) deleteAliasesOf(b *pebble.Batch, ids map[CoreID]bool) error {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{famAlias}, UpperBound: []byte{famAlias + 1}})
	if err != nil {
		return err
	}
	var errs []error
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			errs = append(errs, err)
			break
		}
		if len(v) == 8 && ids[CoreID(binary.BigEndian.Uint64(v))] {
			// Delete copies the key into the batch.
			errs = append(errs, b.Delete(it.Key(), nil))
		}
	}
	errs = append(errs, it.Error(), it.Close())
	return errors.Join(errs...)
}
