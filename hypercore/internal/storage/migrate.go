package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// migrateV1 moves a format 1 database to the current format: each core's
// tree nodes, one key each in format 1, go into packs, and its head moves
// after its blocks. Each core moves in one synced batch, so a crash leaves
// every core either moved or not; the version is stamped once all are,
// and an interrupted migration carries on at the next Open. Blocks stay as
// they are, untagged, which metaRawBlocks records.
func (db *DB) migrateV1() error {
	ids, err := db.coreIDs()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := db.migrateCoreV1(id); err != nil {
			return fmt.Errorf("core %d: %w", id, err)
		}
	}
	b := db.pdb.NewBatch()
	defer b.Close()
	if err := errors.Join(
		b.Set(keyRawBlocks, []byte{1}, nil),
		b.Set(keyVersion, binary.BigEndian.AppendUint32(nil, formatVersion), nil),
	); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// coreIDs returns the id of every core in the discovery key index.
func (db *DB) coreIDs() ([]CoreID, error) {
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: []byte{famDKey}, UpperBound: []byte{famDKey + 1}})
	if err != nil {
		return nil, err
	}
	var ids []CoreID
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return nil, err
		}
		if len(v) != 8 {
			it.Close()
			return nil, fmt.Errorf("%w: core id of %d bytes", ErrCorrupt, len(v))
		}
		ids = append(ids, CoreID(binary.BigEndian.Uint64(v)))
	}
	return ids, errors.Join(it.Error(), it.Close())
}

// migrateCoreV1 moves the nodes and head of core id. The nodes come in
// index order, and pack p is complete once the index passes its last low
// slot (its high nodes have smaller indices), so only the packs around
// the current index are held while the batch fills.
func (db *DB) migrateCoreV1(id CoreID) error {
	b := db.pdb.NewBatch()
	defer b.Close()

	head, err := db.getCopy(db.pdb, appendKindKey(nil, id, kindHeadV1))
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		if err := b.Set(appendKindKey(nil, id, kindHead), head, nil); err != nil {
			return err
		}
		if err := b.Delete(appendKindKey(nil, id, kindHeadV1), nil); err != nil {
			return err
		}
	}

	lo, hi := indexRange(id, kindNodeV1, 0, ^uint64(0))
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	open := make(map[uint64]*nodePack)
	var val []byte
	write := func(pack uint64, np *nodePack) error {
		val = np.appendTo(val[:0])
		delete(open, pack)
		return b.Set(appendPackKey(nil, id, pack), val, nil)
	}
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		index, err := indexOf(it.Key())
		if err != nil {
			it.Close()
			return err
		}
		n, err := decodeNodeValue(index, v)
		if err != nil {
			it.Close()
			return err
		}
		pack, slot, ok := packSlot(index)
		if !ok {
			it.Close()
			return fmt.Errorf("%w: tree node index %d", ErrCorrupt, index)
		}
		np := open[pack]
		if np == nil {
			np = new(nodePack)
			open[pack] = np
		}
		np.put(slot, n)
		for p, np := range open {
			if 2*(p+1)*packLeaves-1 <= index {
				if err := write(p, np); err != nil {
					it.Close()
					return err
				}
			}
		}
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	for p, np := range open {
		if err := write(p, np); err != nil {
			return err
		}
	}
	if err := b.DeleteRange(lo, hi, nil); err != nil {
		return err
	}
	if b.Empty() {
		return nil
	}
	return b.Commit(pebble.Sync)
}
