package hyperbee

import (
	"bytes"
	"context"
	"iter"
)

// Range selects keys for [Bee.Range] and [Bee.Diff] (JS's range options).
// Bounds are keys as the bee's caller sees them (a sub adds its prefix); a
// nil bound is absent, a non-nil empty one is the empty key. When both Gt
// and Gte are set Gt wins, and likewise Lt over Lte.
type Range struct {
	Gt, Gte, Lt, Lte []byte
	// Reverse iterates from the largest key down. Diff ignores it.
	Reverse bool
	// Limit stops after that many entries; 0 or less means no limit.
	Limit int
}

// bounds is a Range in stored keys: the lower bound, whether it is
// inclusive, the upper bound, whether it is inclusive.
type bounds struct {
	lo     []byte
	loIncl bool
	hi     []byte
	hiIncl bool
}

// bounds turns r into stored-key bounds for b. A sub with no lower bound
// starts after prefix‖0x00, and with no upper bound ends before the
// prefix with its last byte incremented, as JS encRange does for subs.
func (b *Bee) bounds(r Range) bounds {
	enc := func(k []byte) []byte {
		if k == nil {
			return nil
		}
		return b.full(k)
	}
	var bd bounds
	if r.Gt != nil {
		bd.lo = enc(r.Gt)
	} else if r.Gte != nil {
		bd.lo, bd.loIncl = enc(r.Gte), true
	}
	if r.Lt != nil {
		bd.hi = enc(r.Lt)
	} else if r.Lte != nil {
		bd.hi, bd.hiIncl = enc(r.Lte), true
	}
	if b.prefix != nil {
		if bd.lo == nil {
			bd.lo = append(bytes.Clone(b.prefix), 0)
		}
		if bd.hi == nil && len(b.prefix) > 0 {
			hi := bytes.Clone(b.prefix)
			hi[len(hi)-1]++ // wraps at 0xff, as a JS Uint8Array does
			bd.hi = hi
		}
	}
	return bd
}

// Range iterates over the entries of r in key order (or reverse order) at
// the version the bee has when the iteration starts (JS
// createRangeIterator / createReadStream). An error ends the iteration
// after it is yielded.
func (b *Bee) Range(ctx context.Context, r Range) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		s, err := b.readSession(ctx, false)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		runRange(ctx, s, b, r, yield)
	}
}

// Peek returns the first entry of r (the last with Reverse), or
// ErrNotFound (JS peek).
func (b *Bee) Peek(ctx context.Context, r Range) (Entry, error) {
	r.Limit = 1
	for e, err := range b.Range(ctx, r) {
		return e, err
	}
	return Entry{}, ErrNotFound
}

func runRange(ctx context.Context, s *session, b *Bee, r Range, yield func(Entry, error) bool) {
	it := rangeIter{s: s, bd: b.bounds(r), reverse: r.Reverse, limit: -1}
	if r.Limit > 0 {
		it.limit = r.Limit
	}
	if err := it.open(ctx); err != nil {
		yield(Entry{}, err)
		return
	}
	for {
		kv, ok, err := it.next(ctx)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		if !ok || !yield(b.finalKV(kv.seq, kv.key, kv.value), nil) {
			return
		}
	}
}

// kv is a block's operation, as the range iterator returns it.
type kv struct {
	seq        uint64
	key, value []byte
}

// kv returns the operation of block seq. A session that writes sees
// its pending blocks; a read-only one reads the shared cache directly.
func (s *session) kv(ctx context.Context, seq uint64) (kv, error) {
	if s.entries != nil {
		e, err := s.getBlock(ctx, seq)
		if err != nil {
			return kv{}, err
		}
		return kv{seq, e.key, e.value}, nil
	}
	b, err := s.load(ctx, seq)
	if err != nil {
		return kv{}, err
	}
	return kv{seq, b.key, b.value}, nil
}

// rangeIter walks the tree in order (JS RangeIterator). Each stack frame
// is a node and a position i: even i = 2c is child c, odd i = 2k+1 is key
// k, so that a frame's positions alternate children and keys in key order.
type rangeIter struct {
	s       *session
	bd      bounds
	reverse bool
	limit   int // -1: none
	stack   []frame
	last    []byte // the previous key yielded, nil before the first
}

type frame struct {
	node *tnode
	i    int
}

// open positions the stack at the start bound: for each node on the path
// to it, the position right after (or, reversed, before) where the bound
// falls.
func (it *rangeIter) open(ctx context.Context) error {
	node, err := it.s.getRoot(ctx, false)
	if err != nil || node == nil {
		return err
	}
	start, incl := it.bd.lo, it.bd.loIncl
	if it.reverse {
		start, incl = it.bd.hi, it.bd.hiIncl
	}
	end := func(n *tnode) int {
		if it.reverse {
			return 2 * len(n.keys)
		}
		return 0
	}
	if start == nil {
		it.stack = append(it.stack, frame{node, end(node)})
		return nil
	}
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return corrupt("tree deeper than %d", maxDepth)
		}
		i, found, err := it.s.search(ctx, node, start)
		if err != nil {
			return err
		}
		if found {
			f := frame{node: node}
			switch {
			case incl:
				f.i = 2*i + 1
			case it.reverse:
				f.i = 2 * i
			default:
				f.i = 2*i + 2
			}
			it.stack = append(it.stack, f)
			return nil
		}
		f := frame{node: node, i: 2*i + 1}
		if it.reverse {
			f.i = 2*i - 1
		}
		if f.i >= 0 && f.i <= 2*len(node.keys) {
			it.stack = append(it.stack, f)
		}
		if len(node.children) == 0 {
			return nil
		}
		if node, err = it.s.child(ctx, node, i); err != nil {
			return err
		}
	}
}

// next returns the next entry, or false at the end.
func (it *rangeIter) next(ctx context.Context) (kv, bool, error) {
	end, incl := it.bd.hi, it.bd.hiIncl
	if it.reverse {
		end, incl = it.bd.lo, it.bd.loIncl
	}
	for len(it.stack) > 0 && it.limit != 0 {
		top := &it.stack[len(it.stack)-1]
		isKey := top.i&1 == 1
		var n int
		switch {
		case !it.reverse:
			n = top.i >> 1
			top.i++
		case top.i < 0:
			n = len(top.node.keys)
		default:
			n = top.i >> 1
			top.i--
		}
		if !isKey {
			if len(top.node.children) == 0 || n >= len(top.node.children) {
				continue
			}
			if len(it.stack) > maxDepth {
				return kv{}, false, corrupt("tree deeper than %d", maxDepth)
			}
			child, err := it.s.child(ctx, top.node, n)
			if err != nil {
				return kv{}, false, err
			}
			f := frame{node: child}
			if it.reverse {
				f.i = 2 * len(child.keys)
			}
			it.stack = append(it.stack, f)
			continue
		}
		if n >= len(top.node.keys) {
			it.stack = it.stack[:len(it.stack)-1]
			continue
		}
		e, err := it.s.kv(ctx, top.node.keys[n].seq)
		if err != nil {
			return kv{}, false, err
		}
		if end != nil {
			c := bytes.Compare(e.key, end)
			out := c > 0
			if it.reverse {
				out = c < 0
			}
			if c == 0 {
				out = !incl
			}
			if out {
				it.limit = 0
				break
			}
		}
		// Keys must come out strictly ordered. A hostile tree whose
		// pointers share a subtree would repeat keys, and could make a
		// scan exponentially long; it ends here instead.
		if it.last != nil {
			c := bytes.Compare(e.key, it.last)
			if c == 0 || (c < 0) != it.reverse {
				return kv{}, false, corrupt("keys out of order at block %d", e.seq)
			}
		}
		it.last = e.key
		if it.limit > 0 {
			it.limit--
		}
		return e, true, nil
	}
	return kv{}, false, nil
}
