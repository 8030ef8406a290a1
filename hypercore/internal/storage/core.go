package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"

	"github.com/cockroachdb/pebble/v2"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
)

// Core is a read handle on one core, on the live DB or on a snapshot
// (Snapshot.Core). Writes go through a Batch with the core's ID. A Core is
// safe for concurrent use. Missing things read as ErrNotFound, except
// tree nodes (Node reports ok = false, as the merkle package's NodeReader
// expects).
type Core struct {
	db *DB
	r  pebble.Reader
	id CoreID
	dk [32]byte
}

// ID returns the core's id in this DB.
func (c *Core) ID() CoreID { return c.id }

// DiscoveryKey returns the core's discovery key.
func (c *Core) DiscoveryKey() [32]byte { return c.dk }

// get reads the value of key into dst. Only the not-found case is
// translated; callers wrap their own detail.
func (c *Core) get(dst, key []byte) ([]byte, error) {
	v, closer, err := c.r.Get(key)
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return dst, ErrNotFound
		}
		return dst, err
	}
	dst = append(dst, v...)
	return dst, closer.Close()
}

// Header returns the core's header record.
func (c *Core) Header() (*Header, error) {
	if !c.db.acquire() {
		return nil, ErrClosed
	}
	defer c.db.release()
	k := getKeyBuf()
	defer putKeyBuf(k)
	v, err := c.get(nil, k.kind(c.id, kindHeader))
	if err != nil {
		return nil, err
	}
	return decodeHeader(v)
}

// Head returns the core's head, or ErrNotFound if none was ever set (an
// empty core).
func (c *Core) Head() (Head, error) {
	if !c.db.acquire() {
		return Head{}, ErrClosed
	}
	defer c.db.release()
	k := getKeyBuf()
	defer putKeyBuf(k)
	var buf [128]byte
	v, err := c.get(buf[:0], k.kind(c.id, kindHead))
	if err != nil {
		return Head{}, err
	}
	return decodeHead(v)
}

// Block returns a copy of block i.
func (c *Core) Block(i uint64) ([]byte, error) {
	b, err := c.AppendBlock(nil, i)
	if err == nil && b == nil {
		b = []byte{}
	}
	return b, err
}

// AppendBlock appends block i to dst and returns the extended slice; with
// a dst of enough capacity it does not allocate.
func (c *Core) AppendBlock(dst []byte, i uint64) ([]byte, error) {
	if !c.db.acquire() {
		return dst, ErrClosed
	}
	defer c.db.release()
	k := getKeyBuf()
	defer putKeyBuf(k)
	v, closer, err := c.r.Get(k.index(c.id, kindBlock, i))
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return dst, ErrNotFound
		}
		return dst, err
	}
	out, err := c.db.appendBlock(dst, v)
	return out, errors.Join(err, closer.Close())
}

// HasBlock reports whether block i is stored.
func (c *Core) HasBlock(i uint64) (bool, error) {
	if !c.db.acquire() {
		return false, ErrClosed
	}
	defer c.db.release()
	k := getKeyBuf()
	defer putKeyBuf(k)
	_, closer, err := c.r.Get(k.index(c.id, kindBlock, i))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, closer.Close()
}

// Node returns tree node index (a flat-tree index). ok is false when it is
// not stored. It implements the merkle package's NodeReader and does not
// allocate.
func (c *Core) Node(index uint64) (n hcrypto.Node, ok bool, err error) {
	pack, slot, valid := packSlot(index)
	if !valid {
		return n, false, nil
	}
	if !c.db.acquire() {
		return n, false, ErrClosed
	}
	defer c.db.release()
	k := getKeyBuf()
	defer putKeyBuf(k)
	v, closer, err := c.r.Get(k.index(c.id, kindPack, ^pack))
	if errors.Is(err, pebble.ErrNotFound) {
		return n, false, nil
	}
	if err != nil {
		return n, false, err
	}
	n, ok, err = packNode(v, slot, index)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return hcrypto.Node{}, false, err
	}
	return n, ok, nil
}

// BitfieldPage returns a copy of bitfield page n ([bitfield.BytesPerPage]
// bytes), or ErrNotFound if it was never written.
func (c *Core) BitfieldPage(n uint64) ([]byte, error) {
	return c.AppendBitfieldPage(nil, n)
}

// AppendBitfieldPage appends bitfield page n to dst.
func (c *Core) AppendBitfieldPage(dst []byte, n uint64) ([]byte, error) {
	if !c.db.acquire() {
		return dst, ErrClosed
	}
	defer c.db.release()
	k := getKeyBuf()
	defer putKeyBuf(k)
	out, err := c.get(dst, k.index(c.id, kindBitfield, n))
	if err != nil {
		return dst, err
	}
	if len(out)-len(dst) != bitfield.BytesPerPage {
		return dst, fmt.Errorf("%w: bitfield page %d is %d bytes", ErrCorrupt, n, len(out)-len(dst))
	}
	return out, nil
}

// UserData returns a copy of the user data value for key.
func (c *Core) UserData(key string) ([]byte, error) {
	if !c.db.acquire() {
		return nil, ErrClosed
	}
	defer c.db.release()
	v, err := c.get(nil, appendUserDataKey(nil, c.id, key))
	if err == nil && v == nil {
		v = []byte{}
	}
	return v, err
}

func appendUserDataKey(dst []byte, id CoreID, key string) []byte {
	return append(appendKindKey(dst, id, kindUserData), key...)
}

// scan yields the raw keys and values in [lo, hi); both are only valid
// until the next step.
func (c *Core) scan(lo, hi []byte) iter.Seq2[[2][]byte, error] {
	return func(yield func([2][]byte, error) bool) {
		if !c.db.acquire() {
			yield([2][]byte{}, ErrClosed)
			return
		}
		defer c.db.release()
		it, err := c.r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			yield([2][]byte{}, err)
			return
		}
		for valid := it.First(); valid; valid = it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				yield([2][]byte{}, err)
				return
			}
			if !yield([2][]byte{it.Key(), v}, nil) {
				it.Close()
				return
			}
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			yield([2][]byte{}, err)
		}
	}
}

// indexOf decodes the index at the end of a per-core index key.
func indexOf(key []byte) (uint64, error) {
	if len(key) != indexKeyLen {
		return 0, fmt.Errorf("%w: key of %d bytes", ErrCorrupt, len(key))
	}
	return binary.BigEndian.Uint64(key[kindKeyLen:]), nil
}

// Block is a stored block, as Blocks yields it.
type Block struct {
	Index uint64
	Data  []byte
}

// Blocks yields the stored blocks with index in [start, end), in order
// (missing blocks are skipped). Each Data is a copy, appended to buf while
// it has room for it (the blocks then share buf's array), else made anew:
// a caller that reuses buf once it is done with the blocks of a scan
// reads without allocating.
func (c *Core) Blocks(start, end uint64, buf []byte) iter.Seq2[Block, error] {
	lo, hi := indexRange(c.id, kindBlock, start, end)
	return func(yield func(Block, error) bool) {
		if end <= start {
			return
		}
		for kv, err := range c.scan(lo, hi) {
			if err != nil {
				yield(Block{}, err)
				return
			}
			i, err := indexOf(kv[0])
			var data []byte
			if err == nil {
				data, err = c.db.appendBlockIn(&buf, kv[1])
			}
			if err != nil {
				yield(Block{}, err)
				return
			}
			if !yield(Block{Index: i, Data: data}, nil) {
				return
			}
		}
	}
}

// NodesEndingIn yields the stored tree nodes whose rightmost leaf (the
// last block they cover) is one of blocks [start, end): the nodes that
// appending those blocks made. They come pack by pack (a pack holds the
// nodes of 32 blocks), newest pack first, and within a pack leaves first:
// not in index order.
func (c *Core) NodesEndingIn(start, end uint64) iter.Seq2[hcrypto.Node, error] {
	return func(yield func(hcrypto.Node, error) bool) {
		if end <= start {
			return
		}
		endPack := ^uint64(0)
		if end < ^uint64(0)-packLeaves {
			endPack = (end + packLeaves - 1) / packLeaves
		}
		lo, hi := packRange(c.id, start/packLeaves, endPack)
		np := nodePacks.Get().(*nodePack)
		defer nodePacks.Put(np)
		for kv, err := range c.scan(lo, hi) {
			var pack uint64
			if err == nil {
				if pack, err = indexOf(kv[0]); err == nil {
					pack = ^pack
					err = decodePack(np, pack, kv[1])
				}
			}
			if err != nil {
				yield(hcrypto.Node{}, err)
				return
			}
			for slot := range packSlots {
				if !np.has.has(slot) {
					continue
				}
				if leaf := slotLastLeaf(pack, slot); leaf < start || leaf >= end {
					continue
				}
				if !yield(np.nodes[slot], nil) {
					return
				}
			}
		}
	}
}

// BitfieldPageEntry is a stored bitfield page, as BitfieldPages yields it.
type BitfieldPageEntry struct {
	// N is the page number: the page covers blocks [N*32768, (N+1)*32768).
	N uint64
	// Page is a copy of the page's [bitfield.BytesPerPage] bytes.
	Page []byte
}

// BitfieldPages yields every stored bitfield page in page order, for
// loading the bitfield (bitfield.Bitfield.ImportPage) when a core opens.
func (c *Core) BitfieldPages() iter.Seq2[BitfieldPageEntry, error] {
	lo, hi := indexRange(c.id, kindBitfield, 0, ^uint64(0))
	return func(yield func(BitfieldPageEntry, error) bool) {
		for kv, err := range c.scan(lo, hi) {
			var n uint64
			if err == nil {
				n, err = indexOf(kv[0])
			}
			if err == nil && len(kv[1]) != bitfield.BytesPerPage {
				err = fmt.Errorf("%w: bitfield page %d is %d bytes", ErrCorrupt, n, len(kv[1]))
			}
			if err != nil {
				yield(BitfieldPageEntry{}, err)
				return
			}
			if !yield(BitfieldPageEntry{N: n, Page: bytes.Clone(kv[1])}, nil) {
				return
			}
		}
	}
}

// UserDataEntry is a user data pair, as UserDataAll yields it.
type UserDataEntry struct {
	Key   string
	Value []byte
}

// UserDataAll yields every user data pair of the core in key order.
func (c *Core) UserDataAll() iter.Seq2[UserDataEntry, error] {
	lo := appendKindKey(nil, c.id, kindUserData)
	hi := appendKindKey(nil, c.id, kindUserData+1)
	return func(yield func(UserDataEntry, error) bool) {
		for kv, err := range c.scan(lo, hi) {
			if err != nil {
				yield(UserDataEntry{}, err)
				return
			}
			e := UserDataEntry{Key: string(kv[0][kindKeyLen:]), Value: bytes.Clone(kv[1])}
			if e.Value == nil {
				e.Value = []byte{}
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}
