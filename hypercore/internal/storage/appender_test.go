package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
)

// appender is a minimal writer of a core, as hypercore will drive this
// package: each append is one batch holding the blocks, every new tree
// node, the touched bitfield pages and the new head. The tests use it to
// produce real, checkable cores.
type appender struct {
	db    *DB
	c     *Core
	head  Head
	roots []hcrypto.Node
	bf    *bitfield.Bitfield
}

// blockData is the content of block i: 1 to 1024 bytes derived from i.
func blockData(i uint64) []byte {
	n := 1 + int((i*7919)%1024)
	b := make([]byte, n)
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], i)
	for j := range b {
		b[j] = seed[j%8] ^ byte(j)
	}
	return b
}

// leaves returns how many blocks the flat-tree node at index spans.
func leaves(index uint64) uint64 { return 1 << bits.TrailingZeros64(^index) }

// rootsOf returns the indexes of the full roots of a tree of length
// blocks, left to right.
func rootsOf(length uint64) []uint64 {
	var out []uint64
	var off uint64
	for w := uint64(1) << 62; w > 0; w >>= 1 {
		if length&w != 0 {
			out = append(out, 2*off+w-1)
			off += w
		}
	}
	return out
}

// openAppender opens (or creates) the core with seed's discovery key and
// loads its head, roots and bitfield.
func openAppender(db *DB, seed byte) (*appender, error) {
	h := testHeader(seed)
	c, err := db.FindCore(h.DiscoveryKey)
	if errors.Is(err, ErrNotFound) {
		c, err = db.CreateCore(h)
	}
	if err != nil {
		return nil, err
	}
	a := &appender{db: db, c: c, bf: bitfield.New()}
	a.head, err = c.Head()
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	for _, r := range rootsOf(a.head.Length) {
		n, ok, err := c.Node(r)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("root %d of length %d missing", r, a.head.Length)
		}
		a.roots = append(a.roots, n)
	}
	for e, err := range c.BitfieldPages() {
		if err != nil {
			return nil, err
		}
		if err := a.bf.ImportPage(e.N, e.Page); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// grow appends leaf to roots, merging equal-sized roots, and calls put for
// every node made.
func grow(roots []hcrypto.Node, leaf hcrypto.Node, put func(hcrypto.Node)) []hcrypto.Node {
	put(leaf)
	roots = append(roots, leaf)
	for len(roots) >= 2 {
		l, r := roots[len(roots)-2], roots[len(roots)-1]
		if leaves(l.Index) != leaves(r.Index) {
			break
		}
		p := hcrypto.Node{Index: (l.Index + r.Index) / 2, Size: l.Size + r.Size, Hash: hcrypto.ParentHash(l, r)}
		put(p)
		roots = append(roots[:len(roots)-2], p)
	}
	return roots
}

func fakeSignature(root [32]byte, length uint64) []byte {
	var l [8]byte
	binary.LittleEndian.PutUint64(l[:], length)
	s := hcrypto.Hash(root[:], l[:])
	return append(s[:], s[:]...)
}

// append commits count new blocks in one batch.
func (a *appender) append(count int) error {
	b := a.db.NewBatch()
	id := a.c.ID()
	start, end := a.head.Length, a.head.Length+uint64(count)
	roots := append([]hcrypto.Node(nil), a.roots...)
	put := func(n hcrypto.Node) { b.PutNode(id, n) }
	byteLength := a.head.ByteLength
	for i := start; i < end; i++ {
		d := blockData(i)
		b.PutBlock(id, i, d)
		roots = grow(roots, hcrypto.Node{Index: 2 * i, Size: uint64(len(d)), Hash: hcrypto.LeafHash(d)}, put)
		byteLength += uint64(len(d))
	}
	if count > 0 {
		for p := bitfield.PageOf(start); p <= bitfield.PageOf(end-1); p++ {
			page := a.bf.AppendPage(nil, p)
			bitfield.FillPage(page, p, start, end, true)
			b.PutBitfieldPage(id, p, page)
		}
	}
	head := Head{Fork: a.head.Fork, Length: end, ByteLength: byteLength, RootHash: hcrypto.TreeHash(roots)}
	head.Signature = fakeSignature(head.RootHash, end)
	b.SetHead(id, &head)
	if err := b.Commit(); err != nil {
		return err
	}
	a.head, a.roots = head, roots
	a.bf.SetRange(start, end, true)
	return nil
}

// truncate commits a truncation to length (a fork), in one batch.
func (a *appender) truncate(length uint64) error {
	if length >= a.head.Length {
		return nil
	}
	id := a.c.ID()
	b := a.db.NewBatch()
	b.DeleteBlockRange(id, length, math.MaxUint64)
	b.DeleteTreeFrom(id, length)
	for p := bitfield.PageOf(length); p <= bitfield.PageOf(a.head.Length-1); p++ {
		page := a.bf.AppendPage(nil, p)
		bitfield.FillPage(page, p, length, a.head.Length, false)
		b.PutBitfieldPage(id, p, page)
	}
	var roots []hcrypto.Node
	var byteLength uint64
	for _, r := range rootsOf(length) {
		n, ok, err := a.c.Node(r)
		if err != nil || !ok {
			b.Close()
			return fmt.Errorf("root %d: %v", r, err)
		}
		roots = append(roots, n)
		byteLength += n.Size
	}
	head := Head{Fork: a.head.Fork + 1, Length: length, ByteLength: byteLength, RootHash: hcrypto.TreeHash(roots)}
	head.Signature = fakeSignature(head.RootHash, length)
	b.SetHead(id, &head)
	if err := b.Commit(); err != nil {
		return err
	}
	a.bf.SetRange(length, a.head.Length, false)
	a.head, a.roots = head, roots
	return nil
}

// verifyCore checks that a core holds exactly a consistent tree: every
// block below the head's length with its leaf and parent nodes, the head's
// byte length and root hash, a bitfield whose contiguous length is the
// length, and nothing past the length.
func verifyCore(c *Core) (Head, error) {
	head, err := c.Head()
	if errors.Is(err, ErrNotFound) {
		head, err = Head{}, nil
	}
	if err != nil {
		return head, err
	}
	var roots []hcrypto.Node
	var byteLength uint64
	made := 0
	var bad error
	check := func(n hcrypto.Node) {
		made++
		got, ok, err := c.Node(n.Index)
		if bad == nil && (err != nil || !ok || got != n) {
			bad = fmt.Errorf("node %d: got %+v, %v, %v; want %+v", n.Index, got, ok, err, n)
		}
	}
	var i uint64
	for blk, err := range c.Blocks(0, math.MaxUint64, nil) {
		if err != nil {
			return head, err
		}
		if blk.Index != i {
			return head, fmt.Errorf("block %d stored, %d expected (gap or extra block)", blk.Index, i)
		}
		if !bytes.Equal(blk.Data, blockData(i)) {
			return head, fmt.Errorf("block %d content differs", i)
		}
		roots = grow(roots, hcrypto.Node{Index: 2 * i, Size: uint64(len(blk.Data)), Hash: hcrypto.LeafHash(blk.Data)}, check)
		byteLength += uint64(len(blk.Data))
		if bad != nil {
			return head, bad
		}
		i++
	}
	if i != head.Length {
		return head, fmt.Errorf("%d blocks stored, head length %d", i, head.Length)
	}
	stored := 0
	for _, err := range c.NodesEndingIn(0, math.MaxUint64) {
		if err != nil {
			return head, err
		}
		stored++
	}
	if stored != made {
		return head, fmt.Errorf("%d nodes stored, the tree of %d blocks has %d", stored, head.Length, made)
	}
	if head.Length > 0 {
		if byteLength != head.ByteLength {
			return head, fmt.Errorf("byte length %d, head says %d", byteLength, head.ByteLength)
		}
		if hcrypto.TreeHash(roots) != head.RootHash {
			return head, errors.New("root hash differs from the head's")
		}
		if !bytes.Equal(head.Signature, fakeSignature(head.RootHash, head.Length)) {
			return head, errors.New("signature differs")
		}
	}
	bf := bitfield.New()
	for e, err := range c.BitfieldPages() {
		if err != nil {
			return head, err
		}
		if err := bf.ImportPage(e.N, e.Page); err != nil {
			return head, err
		}
	}
	if got := bf.ContiguousLength(); got != head.Length {
		return head, fmt.Errorf("bitfield contiguous length %d, head length %d", got, head.Length)
	}
	if bf.HasSet(head.Length, math.MaxUint64) {
		return head, errors.New("bitfield has bits past the length")
	}
	return head, nil
}
