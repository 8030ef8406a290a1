package hyperbee

import (
	"bytes"
	"context"
	"iter"
)

// DiffEntry is one difference between two versions of a bee: the entry of
// a key in the bee Diff was called on (Left) and in the other (Right),
// nil where the key is absent. Entries that differ only in the block that
// wrote them (the same value put again) are differences too.
type DiffEntry struct {
	Left, Right *Entry
}

// Diff iterates over the keys of r whose entries differ between b and
// other, in key order (JS createDiffStream, with b as the left side).
// other is usually a checkout of the same bee, such as
// b.Checkout(oldVersion); both are read at the versions they have when
// the iteration starts. Subtrees the two versions share are skipped
// without being read, so the cost follows the size of the difference.
// r.Reverse is ignored.
func (b *Bee) Diff(ctx context.Context, other *Bee, r Range) iter.Seq2[DiffEntry, error] {
	return func(yield func(DiffEntry, error) bool) {
		ls, err := b.readSession(ctx, false)
		if err != nil {
			yield(DiffEntry{}, err)
			return
		}
		rs, err := other.readSession(ctx, false)
		if err != nil {
			yield(DiffEntry{}, err)
			return
		}
		bd := b.bounds(r)
		left := &diffSide{s: ls, bd: bd, seeking: bd.lo != nil}
		right := &diffSide{s: rs, bd: bd, seeking: bd.lo != nil}
		if err := left.open(ctx); err != nil {
			yield(DiffEntry{}, err)
			return
		}
		if err := right.open(ctx); err != nil {
			yield(DiffEntry{}, err)
			return
		}
		limit := r.Limit
		for {
			l, rt, err := diffNext(ctx, left, right)
			if err != nil {
				yield(DiffEntry{}, err)
				return
			}
			if l == nil && rt == nil {
				return
			}
			var d DiffEntry
			if l != nil {
				e := b.final(l)
				d.Left = &e
			}
			if rt != nil {
				e := other.final(rt)
				d.Right = &e
			}
			if !yield(d, nil) {
				return
			}
			if limit > 0 {
				if limit--; limit == 0 {
					return
				}
			}
		}
	}
}

// diffNext merges the two sides (JS DiffIterator._next): identical
// references (the same key block, or the same subtree) are skipped on
// both sides; otherwise the side whose next item is a subtree, or whose
// subtree reaches further, is opened up until both sides stand on keys.
func diffNext(ctx context.Context, a, b *diffSide) (*entry, *entry, error) {
	for {
		l, r := a.peek(), b.peek()
		if l == nil && r == nil {
			return nil, nil, nil
		}
		if l == nil {
			e, err := b.nextKey(ctx)
			return nil, e, err
		}
		if r == nil {
			e, err := a.nextKey(ctx)
			return e, nil, err
		}
		if l.seq == r.seq && l.isKey == r.isKey && l.offset == r.offset {
			a.skip()
			b.skip()
			continue
		}
		c, err := compareCursors(ctx, l, r)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case l.isKey && !r.isKey:
			err = b.step(ctx)
		case !l.isKey && r.isKey:
			err = a.step(ctx)
		case l.isKey && r.isKey:
			var le, re *entry
			if c <= 0 {
				if le, err = a.nextKey(ctx); err != nil {
					return nil, nil, err
				}
			}
			if c >= 0 {
				if re, err = b.nextKey(ctx); err != nil {
					return nil, nil, err
				}
			}
			return le, re, nil
		case c == 0:
			if err = a.step(ctx); err == nil {
				err = b.step(ctx)
			}
		case c < 0:
			err = b.step(ctx)
		default:
			err = a.step(ctx)
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

// cursor is a position in one node (JS SubTree): odd i is key i>>1, even i
// child i>>1. seq and offset identify the item there.
type cursor struct {
	s      *session
	node   *tnode
	parent *cursor
	i, n   int
	isKey  bool
	seq    uint64
	offset uint64
}

func newCursor(s *session, node *tnode, parent *cursor) (*cursor, error) {
	c := &cursor{s: s, node: node, parent: parent}
	c.isKey = len(node.children) == 0
	if c.isKey {
		if len(node.keys) == 0 {
			return nil, corrupt("empty leaf")
		}
		c.i = 1
		c.seq = node.keys[0].seq
	} else {
		c.seq, c.offset = node.children[0].seq, node.children[0].offset
	}
	return c, nil
}

// advance moves to the next item, skipping child positions of a leaf, and
// reports whether there is one.
func (c *cursor) advance() bool {
	c.i++
	if c.i&1 == 0 && len(c.node.children) == 0 {
		c.i++
	}
	return c.update()
}

func (c *cursor) update() bool {
	c.isKey = c.i&1 == 1
	c.n = c.i >> 1
	if c.isKey {
		if c.n >= len(c.node.keys) {
			return false
		}
		c.seq, c.offset = c.node.keys[c.n].seq, 0
		return true
	}
	if c.n >= len(c.node.children) {
		return false
	}
	c.seq, c.offset = c.node.children[c.n].seq, c.node.children[c.n].offset
	return true
}

// bisect positions c at key (JS SubTree.bisect) and reports whether the
// search is over (the key was found, or c is a leaf).
func (c *cursor) bisect(ctx context.Context, key []byte, incl bool) (bool, error) {
	i, found, err := c.s.search(ctx, c.node, key)
	if err != nil {
		return false, err
	}
	inner := len(c.node.children) > 0
	if found {
		switch {
		case incl:
			c.i = 2*i + 1
		case inner:
			c.i = 2*i + 2
		default:
			c.i = 2*i + 3
		}
		return true, nil
	}
	c.i = 2 * i
	if !inner {
		c.i++
	}
	return !inner, nil
}

// bound returns the key that ends c's item: the key itself, or for a
// child the key after it, looking up the parents for the last child; nil
// means no bound (past every key).
func (c *cursor) bound(ctx context.Context) ([]byte, error) {
	for ; c != nil; c = c.parent {
		if c.n < len(c.node.keys) {
			return c.s.key(ctx, c.node, c.n)
		}
	}
	return nil, nil
}

func compareCursors(ctx context.Context, a, b *cursor) (int, error) {
	ka, err := a.bound(ctx)
	if err != nil {
		return 0, err
	}
	kb, err := b.bound(ctx)
	if err != nil {
		return 0, err
	}
	switch {
	case ka == nil && kb == nil:
		return 0, nil
	case ka == nil:
		return 1, nil
	case kb == nil:
		return -1, nil
	}
	return bytes.Compare(ka, kb), nil
}

// diffSide walks one version's tree for Diff (JS TreeIterator).
type diffSide struct {
	s       *session
	bd      bounds
	seeking bool
	stack   []*cursor
	last    []byte // the previous key returned, to catch hostile trees
}

func (d *diffSide) open(ctx context.Context) error {
	node, err := d.s.getRoot(ctx, false)
	if err != nil || node == nil || len(node.keys) == 0 {
		return err
	}
	c, err := newCursor(d.s, node, nil)
	if err != nil {
		return err
	}
	if d.seeking {
		if ok, err := d.seek(ctx, c); err != nil || !ok {
			return err
		}
	}
	d.stack = append(d.stack, c)
	return nil
}

// seek positions c at the lower bound; false when c has nothing past it.
func (d *diffSide) seek(ctx context.Context, c *cursor) (bool, error) {
	done, err := c.bisect(ctx, d.bd.lo, d.bd.loIncl)
	if err != nil {
		return false, err
	}
	oob := !c.update()
	if done || oob {
		d.seeking = false
	}
	return !oob, nil
}

func (d *diffSide) peek() *cursor {
	if len(d.stack) == 0 {
		return nil
	}
	return d.stack[len(d.stack)-1]
}

func (d *diffSide) skip() {
	if top := d.peek(); top != nil && !top.advance() {
		d.stack = d.stack[:len(d.stack)-1]
	}
}

// step consumes the top item: a key is returned; a child is opened.
func (d *diffSide) step(ctx context.Context) error {
	_, err := d.next(ctx)
	return err
}

func (d *diffSide) next(ctx context.Context) (*entry, error) {
	top := d.peek()
	if top == nil {
		return nil, nil
	}
	isKey, n, seq := top.isKey, top.n, top.seq
	if !top.advance() {
		d.stack = d.stack[:len(d.stack)-1]
	}
	if isKey {
		d.seeking = false
		return d.s.getBlock(ctx, seq)
	}
	if len(d.stack) > maxDepth {
		return nil, corrupt("tree deeper than %d", maxDepth)
	}
	child, err := d.s.child(ctx, top.node, n)
	if err != nil {
		return nil, err
	}
	c, err := newCursor(d.s, child, top)
	if err != nil {
		return nil, err
	}
	if d.seeking {
		if ok, err := d.seek(ctx, c); err != nil || !ok {
			return nil, err
		}
	}
	d.stack = append(d.stack, c)
	return nil, nil
}

// nextKey returns the next key's block within the upper bound, or nil.
func (d *diffSide) nextKey(ctx context.Context) (*entry, error) {
	var e *entry
	for len(d.stack) > 0 && e == nil {
		var err error
		if e, err = d.next(ctx); err != nil {
			return nil, err
		}
	}
	if e == nil {
		return nil, nil
	}
	if d.last != nil && bytes.Compare(e.key, d.last) <= 0 {
		return nil, corrupt("keys out of order at block %d", e.seq)
	}
	d.last = e.key
	if d.bd.hi == nil {
		return e, nil
	}
	c := bytes.Compare(e.key, d.bd.hi)
	if c < 0 || (c == 0 && d.bd.hiIncl) {
		return e, nil
	}
	d.stack = nil
	return nil, nil
}
