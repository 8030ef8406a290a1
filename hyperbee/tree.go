package hyperbee

import (
	"bytes"
	"context"
	"fmt"
	"slices"
)

// The B-tree of hyperbee 2.x (index.js), PROTOCOLS.md §6.2-6.4.
//
// Every block seq ≥ 1 is one put or del and carries, in its YoloIndex, the
// nodes that operation rewrote: level 0 is the new root, further levels
// the other changed nodes in depth-first pre-order. A key reference is a
// block seq (that block's key); a child reference is (seq, offset), level
// offset of block seq's index. The root of version v is level 0 of block
// v-1.
//
// Go must append the very blocks JS appends for the same operations, so
// the write algorithms below follow index.js step for step: the same
// descent (every inner node on the path is rewritten), the same split
// (the right half takes the last keys, the median goes up), the same
// choice of replacement key on delete (from the smaller of the two
// neighbouring leaves) and the same rebalancing (borrow from the left,
// else the right, else merge), and the same order of levels. A node is
// rewritten when its changed flag is set; a pointer to a rewritten node
// becomes (this seq, its level). Explicit batches keep their nodes in
// memory between operations and compact the indexes of all but the last
// block when they flush, as JS's Batch.toBlocks does.

const (
	minKeys         = 4   // T-1 with T = 5: the fewest keys of a non-root node
	maxChildren     = 9   // a node holding this many keys splits
	maxBlocksCached = 128 // JS Batch maxBlocksCached: committed blocks one session keeps
	maxDepth        = 64  // deeper than any real tree: a hostile cycle ends here
)

// tkey is a key reference: the seq of the block whose key it is, and the
// key once loaded.
type tkey struct {
	seq uint64
	val []byte // nil until loaded
}

// tchild is a child reference. Parents and the index being built share
// these: rewriting a child's seq and offset updates every holder.
type tchild struct {
	seq, offset uint64
	node        *tnode // nil until loaded
}

// plevel is one level of an entry's index as references (JS Pointers).
// Real levels hold at most 8 keys and 9 children, which fit in the inline
// arrays: one allocation per level.
type plevel struct {
	offset   uint64 // the level's index in its block
	keys     []tkey
	children []*tchild
	taken    bool // a node uses keys and children as its own

	keyBuf   [maxChildren - 1]tkey
	childPtr [maxChildren]*tchild
	childBuf [maxChildren]tchild
}

// entry is a block as one session sees it (JS BlockEntry, or BatchEntry
// when pending is set).
type entry struct {
	seq        uint64
	key, value []byte
	blk        *block    // the committed block; nil when pending
	ptrs       []*plevel // levels of blk's index as references, once made (few)
	pending    []*tchild // index of a block of a batch not yet flushed
}

// tnode is a tree node, loaded from a level of an entry or made by a write.
type tnode struct {
	e        *entry // the block holding the node; nil for a new tree's root
	offset   uint64
	keys     []tkey
	children []*tchild
	changed  bool
}

func newNode(e *entry) *tnode { return &tnode{e: e, changed: true} }

// session is one operation's (or one batch's) view of the tree: JS Batch.
type session struct {
	bee     *Bee
	sh      *shared
	entries map[uint64]*entry // blocks this session has seen; nil to keep none
	fixed   uint64            // the version, when fixed (snapshots and reads)
	batch   bool              // operations stay pending until flush
	pending int               // operations pending (JS length)
	fork    uint64            // the core's fork when the session started
}

func (s *session) version() uint64 {
	if s.fixed != 0 {
		return s.fixed
	}
	return max(1, s.sh.core.Length()+uint64(s.pending))
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// getBlock returns block seq as an entry of this session.
func (s *session) getBlock(ctx context.Context, seq uint64) (*entry, error) {
	if s.entries != nil {
		if e, ok := s.entries[seq]; ok {
			return e, nil
		}
	}
	b, err := s.load(ctx, seq)
	if err != nil {
		return nil, err
	}
	e := &entry{seq: seq, key: b.key, value: b.value, blk: b}
	if s.entries != nil && len(s.entries)-s.pending < maxBlocksCached {
		s.entries[seq] = e
	}
	return e, nil
}

// getKey returns the key of block seq.
func (s *session) getKey(ctx context.Context, seq uint64) ([]byte, error) {
	if s.entries != nil {
		if e, ok := s.entries[seq]; ok {
			return e.key, nil
		}
	}
	if seq == 0 || seq >= s.version() {
		return nil, corrupt("reference to block %d at version %d", seq, s.version())
	}
	return s.sh.loadKey(ctx, seq, s.fork)
}

// load reads a committed block the session's tree refers to. Trees only
// refer to blocks 1 ... version-1, so a reference outside them is corrupt
// (and is not waited for).
func (s *session) load(ctx context.Context, seq uint64) (*block, error) {
	if seq == 0 || seq >= s.version() {
		return nil, corrupt("reference to block %d at version %d", seq, s.version())
	}
	return s.sh.loadBlock(ctx, seq, s.fork)
}

// level returns level i of e's index as references, made on first use:
// the last block of a batch holds hundreds of levels, of which a reader
// needs one or two. (References may point past e: inside a batch, JS
// leaves a node in an earlier block while one of its children moves to a
// later block of the same batch. Sessions bound them by their version
// instead, see load.)
//
// With keep, the level is kept in e, so that instantiating it again shares
// its child references, as JS does within a batch.
func (e *entry) level(i uint64, keep bool) (*plevel, error) {
	for _, p := range e.ptrs {
		if p.offset == i {
			return p, nil
		}
	}
	l, err := e.blk.level(i)
	if err != nil {
		return nil, err
	}
	n := len(l.children) / 2
	if n != 0 && n != len(l.keys)+1 {
		return nil, corrupt("block %d level %d has %d keys and %d children", e.seq, i, len(l.keys), n)
	}
	p := &plevel{offset: i}
	if len(l.keys) <= len(p.keyBuf) {
		p.keys = p.keyBuf[:len(l.keys)]
	} else {
		p.keys = make([]tkey, len(l.keys))
	}
	for j, k := range l.keys {
		p.keys[j].seq = k
	}
	if n > 0 {
		children, ptrs := p.childBuf[:], p.childPtr[:]
		if n > len(children) {
			children, ptrs = make([]tchild, n), make([]*tchild, n)
		}
		p.children = ptrs[:n]
		for j := range n {
			c := &children[j]
			c.seq, c.offset = l.children[2*j], l.children[2*j+1]
			p.children[j] = c
		}
	}
	if keep {
		e.ptrs = append(e.ptrs, p)
	}
	return p, nil
}

// treeNode returns the node at level offset of e (JS getTreeNode).
func (s *session) treeNode(e *entry, offset uint64) (*tnode, error) {
	if e.pending != nil {
		if offset >= uint64(len(e.pending)) || e.pending[offset] == nil {
			return nil, corrupt("pending block %d has no level %d", e.seq, offset)
		}
		return e.pending[offset].node, nil
	}
	l, err := e.level(offset, s.entries != nil)
	if err != nil {
		return nil, err
	}
	n := &tnode{e: e, offset: offset, keys: l.keys, children: l.children}
	if s.entries != nil {
		// A session that writes may instantiate a level more than once: JS
		// shares its Child objects between the instances, and so do we,
		// but as nodes change their lists each instance after the first
		// gets its own copy of them. (A read-only session makes a new
		// entry per block it reads, so nothing is shared.)
		if l.taken {
			n.keys, n.children = slices.Clone(l.keys), slices.Clone(l.children)
		}
		l.taken = true
	}
	return n, nil
}

// isDeletion reports whether e deletes its key: no value, and its own seq
// is not among the keys of its index (a put of a JS null keeps its key).
func (e *entry) isDeletion() (bool, error) {
	if e.value != nil {
		return false, nil
	}
	if e.pending != nil {
		for _, c := range e.pending {
			if c == nil {
				continue
			}
			for _, k := range c.node.keys {
				if k.seq == e.seq {
					return false, nil
				}
			}
		}
		return true, nil
	}
	has, err := e.blk.hasKey(e.seq)
	return !has, err
}

// getRoot returns the root of the session's version, nil for an empty bee.
// With ensureHeader it first appends the header to an empty writable core,
// as JS does on the first write.
func (s *session) getRoot(ctx context.Context, ensureHeader bool) (*tnode, error) {
	if ensureHeader && s.sh.core.Length() == 0 && s.sh.writable() {
		h := &Header{Protocol: protocolName, Metadata: s.sh.metadata}
		if _, err := s.sh.core.Append(ctx, encodeHeader(h)); err != nil {
			return nil, fmt.Errorf("hyperbee: appending the header: %w", err)
		}
	}
	v := s.version()
	if v < 2 {
		return nil, nil
	}
	e, err := s.getBlock(ctx, v-1)
	if err != nil {
		return nil, err
	}
	return s.treeNode(e, 0)
}

// key returns key i of n, loading it if needed.
func (s *session) key(ctx context.Context, n *tnode, i int) ([]byte, error) {
	k := &n.keys[i]
	if k.val != nil {
		return k.val, nil
	}
	var v []byte
	if n.e != nil && k.seq == n.e.seq {
		v = n.e.key
	} else {
		var err error
		if v, err = s.getKey(ctx, k.seq); err != nil {
			return nil, err
		}
	}
	if v == nil {
		v = []byte{}
	}
	k.val = v
	return v, nil
}

// child returns child i of n, loading it if needed.
func (s *session) child(ctx context.Context, n *tnode, i int) (*tnode, error) {
	c := n.children[i]
	if c.node != nil {
		return c.node, nil
	}
	e := n.e
	if e == nil || c.seq != e.seq {
		var err error
		if e, err = s.getBlock(ctx, c.seq); err != nil {
			return nil, err
		}
	}
	node, err := s.treeNode(e, c.offset)
	if err != nil {
		return nil, err
	}
	c.node = node
	return node, nil
}

// search binary-searches target among n's keys: the index of an equal key
// and true, or the child to descend into and false.
func (s *session) search(ctx context.Context, n *tnode, target []byte) (int, bool, error) {
	lo, hi := 0, len(n.keys)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		k, err := s.key(ctx, n, mid)
		if err != nil {
			return 0, false, err
		}
		switch c := bytes.Compare(target, k); {
		case c == 0:
			return mid, true, nil
		case c < 0:
			hi = mid
		default:
			lo = mid + 1
		}
	}
	return lo, false, nil
}

// get looks key up (JS Batch._get): the block holding its value, or nil.
func (s *session) get(ctx context.Context, key []byte) (*entry, error) {
	if s.entries == nil {
		return s.getShared(ctx, key)
	}
	node, err := s.getRoot(ctx, false)
	if err != nil || node == nil {
		return nil, err
	}
	for depth := 0; ; depth++ {
		if depth > maxDepth {
			return nil, corrupt("tree deeper than %d", maxDepth)
		}
		// The block that rewrote this node is an operation on key: it
		// holds the answer (JS isTarget; never true of a pending block).
		if e := node.e; e.pending == nil && bytes.Equal(e.key, key) {
			del, err := e.isDeletion()
			if err != nil || del {
				return nil, err
			}
			return e, nil
		}
		i, found, err := s.search(ctx, node, key)
		if err != nil {
			return nil, err
		}
		if found {
			return s.getBlock(ctx, node.keys[i].seq)
		}
		if len(node.children) == 0 {
			return nil, nil
		}
		if node, err = s.child(ctx, node, i); err != nil {
			return nil, err
		}
	}
}

// getShared is get for a session that only reads: the same walk, over the
// shared decoded blocks instead of nodes of its own, allocating nothing
// but the answer.
func (s *session) getShared(ctx context.Context, key []byte) (*entry, error) {
	v := s.version()
	if v < 2 {
		return nil, nil
	}
	blk, err := s.load(ctx, v-1)
	if err != nil {
		return nil, err
	}
	lvl, err := blk.level(0)
	for depth := 0; ; depth++ {
		if err != nil {
			return nil, err
		}
		if depth > maxDepth {
			return nil, corrupt("tree deeper than %d", maxDepth)
		}
		if bytes.Equal(blk.key, key) { // JS isTarget, as in get
			e := &entry{seq: blk.seq, key: blk.key, value: blk.value, blk: blk}
			if del, err := e.isDeletion(); err != nil || del {
				return nil, err
			}
			return e, nil
		}
		lo, hi := 0, len(lvl.keys)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			k, err := s.getKey(ctx, lvl.keys[mid])
			if err != nil {
				return nil, err
			}
			c := bytes.Compare(key, k)
			if c == 0 {
				return s.getBlock(ctx, lvl.keys[mid])
			}
			if c < 0 {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		n := len(lvl.children) / 2
		if n == 0 {
			return nil, nil
		}
		if n != len(lvl.keys)+1 {
			return nil, corrupt("block %d has %d keys and %d children in a level", blk.seq, len(lvl.keys), n)
		}
		seq, off := lvl.children[2*lo], lvl.children[2*lo+1]
		if seq != blk.seq {
			if blk, err = s.load(ctx, seq); err != nil {
				return nil, err
			}
		}
		lvl, err = blk.level(off)
	}
}

// casCheck asks cas about replacing the key at keys[i] of n. It reports
// whether the write may go on.
func (s *session) casCheck(ctx context.Context, n *tnode, i int, next Entry, cas CASFunc) (bool, error) {
	prev, err := s.getBlock(ctx, n.keys[i].seq)
	if err != nil {
		return false, err
	}
	return cas(s.bee.final(prev), next), nil
}

// sameValueSkip reports whether a put of value over keys[i] of n is to be
// dropped because the bee skips unchanged values (JS alwaysDuplicate: false).
func (s *session) sameValueSkip(ctx context.Context, n *tnode, i int, value []byte) (bool, error) {
	if !s.sh.skipUnchanged {
		return false, nil
	}
	prev, err := s.getBlock(ctx, n.keys[i].seq)
	if err != nil {
		return false, err
	}
	return sameValue(prev.value, value), nil
}

func sameValue(a, b []byte) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return bytes.Equal(a, b)
}

// put inserts or replaces key (JS Batch._put). It reports whether an
// operation was appended (or queued in a batch): false when cas declined.
func (s *session) put(ctx context.Context, key, value []byte, cas CASFunc) (bool, error) {
	root, err := s.getRoot(ctx, true)
	if err != nil {
		return false, err
	}
	if root == nil {
		root = newNode(nil)
	}
	seq := s.sh.core.Length() + uint64(s.pending)
	target := tkey{seq: seq, val: key}
	var next Entry
	if cas != nil {
		next = s.bee.entryOf(seq, key, value)
	}

	var stack []*tnode
	node := root
	for len(node.children) > 0 {
		if len(stack) > maxDepth {
			return false, corrupt("tree deeper than %d", maxDepth)
		}
		stack = append(stack, node)
		node.changed = true // rewritten, as every inner node on the path is
		i, found, err := s.search(ctx, node, key)
		if err != nil {
			return false, err
		}
		if found {
			if cas != nil {
				if ok, err := s.casCheck(ctx, node, i, next, cas); err != nil || !ok {
					return false, err
				}
			}
			if skip, err := s.sameValueSkip(ctx, node, i, value); err != nil || skip {
				return false, err
			}
			node.keys[i] = target
			node.changed = true
			return true, s.appendOp(ctx, root, seq, key, value)
		}
		if node, err = s.child(ctx, node, i); err != nil {
			return false, err
		}
	}

	fits, err := s.insertKey(ctx, node, target, value, nil, next, cas)
	if err != nil {
		return false, err
	}
	if !node.changed {
		return false, nil
	}
	for !fits {
		var parent *tnode
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
		median, right, err := s.split(ctx, node)
		if err != nil {
			return false, err
		}
		if parent != nil {
			if fits, err = s.insertKey(ctx, parent, median, value, right, Entry{}, nil); err != nil {
				return false, err
			}
			node = parent
			continue
		}
		root = newNode(node.e)
		root.keys = []tkey{median}
		root.children = []*tchild{{node: node}, {node: right}}
		fits = true
	}
	return true, s.appendOp(ctx, root, seq, key, value)
}

// insertKey puts k into n (JS TreeNode.insertKey), with child as the
// reference right of it when given. It reports whether n still fits
// (holds fewer than maxChildren keys). An equal key is replaced instead,
// unless cas declines or the value is unchanged and skipped.
func (s *session) insertKey(ctx context.Context, n *tnode, k tkey, value []byte, child *tnode, next Entry, cas CASFunc) (bool, error) {
	i, found, err := s.search(ctx, n, k.val)
	if err != nil {
		return false, err
	}
	if found {
		if cas != nil {
			if ok, err := s.casCheck(ctx, n, i, next, cas); err != nil || !ok {
				return true, err
			}
		}
		if skip, err := s.sameValueSkip(ctx, n, i, value); err != nil || skip {
			return true, err
		}
		n.changed = true
		n.keys[i] = k
		return true, nil
	}
	n.keys = slices.Insert(n.keys, i, k)
	if child != nil {
		n.children = slices.Insert(n.children, i+1, &tchild{node: child})
	}
	n.changed = true
	return len(n.keys) < maxChildren, nil
}

// split moves the upper half of n's keys (and children) to a new right
// sibling and takes out the median (JS TreeNode.split).
func (s *session) split(ctx context.Context, n *tnode) (tkey, *tnode, error) {
	half := len(n.keys) >> 1
	right := newNode(n.e)
	right.keys = slices.Clone(n.keys[len(n.keys)-half:])
	n.keys = n.keys[:len(n.keys)-half]
	if _, err := s.key(ctx, n, len(n.keys)-1); err != nil { // the median must be loaded
		return tkey{}, nil, err
	}
	median := n.keys[len(n.keys)-1]
	n.keys = n.keys[:len(n.keys)-1]
	if len(n.children) > 0 {
		cut := len(n.children) - (half + 1)
		right.children = slices.Clone(n.children[cut:])
		n.children = n.children[:cut]
	}
	n.changed = true
	return median, right, nil
}

// del deletes key (JS Batch._del). It reports whether an operation was
// appended: false when the key is absent or cas declined.
func (s *session) del(ctx context.Context, key []byte, cas CASFunc) (bool, error) {
	node, err := s.getRoot(ctx, true)
	if err != nil || node == nil {
		return false, err
	}
	seq := s.sh.core.Length() + uint64(s.pending)
	var stack []*tnode
	for {
		if len(stack) > maxDepth {
			return false, corrupt("tree deeper than %d", maxDepth)
		}
		stack = append(stack, node)
		i, found, err := s.search(ctx, node, key)
		if err != nil {
			return false, err
		}
		if found {
			if cas != nil {
				if ok, err := s.casCheck(ctx, node, i, s.bee.entryOf(seq, key, nil), cas); err != nil || !ok {
					return false, err
				}
			}
			if len(node.children) > 0 {
				if stack, err = s.setKeyToNearestLeaf(ctx, node, i, stack); err != nil {
					return false, err
				}
			} else {
				s.removeKey(node, i)
			}
			// Marked only now, so that a missing key rewrites nothing.
			for _, n := range stack {
				n.changed = true
			}
			root, err := s.rebalance(ctx, stack)
			if err != nil {
				return false, err
			}
			return true, s.appendOp(ctx, root, seq, key, nil)
		}
		if len(node.children) == 0 {
			return false, nil
		}
		if node, err = s.child(ctx, node, i); err != nil {
			return false, err
		}
	}
}

func (s *session) removeKey(n *tnode, i int) {
	n.keys = slices.Delete(n.keys, i, i+1)
	if len(n.children) > 0 {
		n.children[i+1].seq = 0 // freed: dropped from a batch's earlier index
		n.children = slices.Delete(n.children, i+1, i+2)
	}
	n.changed = true
}

// leafSize returns the number of keys of the leftmost (or rightmost) leaf
// under n.
func (s *session) leafSize(ctx context.Context, n *tnode, leftmost bool) (int, error) {
	for depth := 0; len(n.children) > 0; depth++ {
		if depth > maxDepth {
			return 0, corrupt("tree deeper than %d", maxDepth)
		}
		i := len(n.children) - 1
		if leftmost {
			i = 0
		}
		var err error
		if n, err = s.child(ctx, n, i); err != nil {
			return 0, err
		}
	}
	return len(n.keys), nil
}

// setKeyToNearestLeaf replaces key i of inner node n by its in-order
// neighbour taken from a leaf: the successor when the predecessor's leaf
// is smaller than the successor's, else the predecessor. The path down to
// that leaf joins the stack.
func (s *session) setKeyToNearestLeaf(ctx context.Context, n *tnode, i int, stack []*tnode) ([]*tnode, error) {
	left, err := s.child(ctx, n, i)
	if err != nil {
		return nil, err
	}
	right, err := s.child(ctx, n, i+1)
	if err != nil {
		return nil, err
	}
	ls, err := s.leafSize(ctx, left, false)
	if err != nil {
		return nil, err
	}
	rs, err := s.leafSize(ctx, right, true)
	if err != nil {
		return nil, err
	}
	if ls < rs {
		stack = append(stack, right)
		for len(right.children) > 0 {
			if right, err = s.child(ctx, right, 0); err != nil {
				return nil, err
			}
			stack = append(stack, right)
		}
		n.keys[i] = right.keys[0]
		right.keys = slices.Delete(right.keys, 0, 1)
		return stack, nil
	}
	stack = append(stack, left)
	for len(left.children) > 0 {
		if left, err = s.child(ctx, left, len(left.children)-1); err != nil {
			return nil, err
		}
		stack = append(stack, left)
	}
	last := len(left.keys) - 1
	n.keys[i] = left.keys[last]
	left.keys = left.keys[:last]
	return stack, nil
}

// siblings returns n's neighbours under parent and n's index there.
func (s *session) siblings(ctx context.Context, n, parent *tnode) (left *tnode, index int, right *tnode, err error) {
	for i, c := range parent.children {
		if c.node != n {
			continue
		}
		if i > 0 {
			if left, err = s.child(ctx, parent, i-1); err != nil {
				return nil, 0, nil, err
			}
		}
		if i < len(parent.children)-1 {
			if right, err = s.child(ctx, parent, i+1); err != nil {
				return nil, 0, nil, err
			}
		}
		return left, i, right, nil
	}
	return nil, 0, nil, corrupt("node not found under its parent")
}

// rebalance restores the minimum fill bottom-up after a removal (JS
// rebalance) and returns the root, which shrinks when it is left empty
// with one child.
func (s *session) rebalance(ctx context.Context, stack []*tnode) (*tnode, error) {
	root := stack[0]
	for len(stack) > 1 {
		node := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		parent := stack[len(stack)-1]
		if len(node.keys) >= minKeys {
			return root, nil
		}
		left, index, right, err := s.siblings(ctx, node, parent)
		if err != nil {
			return nil, err
		}
		if left != nil && len(left.keys) > minKeys { // borrow from the left
			left.changed = true
			node.keys = slices.Insert(node.keys, 0, parent.keys[index-1])
			if len(left.children) > 0 {
				last := len(left.children) - 1
				node.children = slices.Insert(node.children, 0, left.children[last])
				left.children = left.children[:last]
			}
			last := len(left.keys) - 1
			parent.keys[index-1] = left.keys[last]
			left.keys = left.keys[:last]
			return root, nil
		}
		if right != nil && len(right.keys) > minKeys { // borrow from the right
			right.changed = true
			node.keys = append(node.keys, parent.keys[index])
			if len(right.children) > 0 {
				node.children = append(node.children, right.children[0])
				right.children = slices.Delete(right.children, 0, 1)
			}
			parent.keys[index] = right.keys[0]
			right.keys = slices.Delete(right.keys, 0, 1)
			return root, nil
		}
		if left != nil { // merge with a sibling, pulling the separator down
			index--
			right = node
		} else {
			left = node
		}
		left.changed = true
		left.keys = append(left.keys, parent.keys[index])
		left.keys = append(left.keys, right.keys...)
		left.children = append(left.children, right.children...)
		s.removeKey(parent, index)
	}
	if len(root.keys) == 0 && len(root.children) > 0 {
		return s.child(ctx, root, 0)
	}
	return root, nil
}

// indexChanges lists n and, depth first, its changed descendants in index
// and points their references at (seq, level) (JS TreeNode.indexChanges).
func (n *tnode) indexChanges(index *[]*tchild, seq uint64) uint64 {
	offset := uint64(len(*index))
	*index = append(*index, nil)
	n.changed = false
	for _, c := range n.children {
		if c.node == nil || !c.node.changed {
			continue
		}
		c.seq = seq
		c.offset = c.node.indexChanges(index, seq)
		(*index)[c.offset] = c
	}
	return offset
}

// updateChildren makes the nodes written at seq belong to e.
func (n *tnode) updateChildren(seq uint64, e *entry) {
	for _, c := range n.children {
		if c.node == nil || c.seq != seq {
			continue
		}
		c.node.e = e
		c.node.updateChildren(seq, e)
	}
}

// appendOp writes the operation rooted at root: one block now, or a
// pending block of the batch.
func (s *session) appendOp(ctx context.Context, root *tnode, seq uint64, key, value []byte) error {
	index := make([]*tchild, 0, 16)
	root.indexChanges(&index, seq)
	index[0] = &tchild{seq: seq, node: root}
	if s.batch {
		e := &entry{seq: seq, key: key, value: value, pending: index}
		root.e = e
		s.pending++
		s.entries[seq] = e
		root.updateChildren(seq, e)
		return nil
	}
	return s.sh.appendBlocks(ctx, seq, encodeNode(deflate(index), key, value))
}

// deflate encodes an index: for each listed node its keys' seqs and its
// children's (seq, offset) pairs.
func deflate(index []*tchild) []byte {
	b := make([]byte, 0, 48*len(index))
	lvl := make([]byte, 0, 128)
	keys := make([]uint64, 0, maxChildren)
	children := make([]uint64, 0, 2*maxChildren+2)
	for _, c := range index {
		n := c.node
		keys = keys[:0]
		for _, k := range n.keys {
			keys = append(keys, k.seq)
		}
		children = children[:0]
		for _, ch := range n.children {
			children = append(children, ch.seq, ch.offset)
		}
		lvl = appendLevel(lvl[:0], keys, children)
		b = appendTagBytes(b, 1, lvl)
	}
	return b
}

// toBlocks encodes the pending blocks of a batch (JS Batch.toBlocks). The
// index of every block but the last keeps only the nodes still attributed
// to it (a later operation of the batch rewrote the others, and the root
// is always rewritten), compacted by moving the last level into each hole.
func (s *session) toBlocks(base uint64) ([][]byte, error) {
	out := make([][]byte, s.pending)
	for i := range s.pending {
		seq := base + uint64(i)
		e := s.entries[seq]
		if e == nil || e.pending == nil {
			return nil, fmt.Errorf("hyperbee: batch lost its block %d", seq)
		}
		idx := e.pending
		if i < s.pending-1 {
			idx[0] = nil
			for j := 0; j < len(idx); {
				if c := idx[j]; c != nil && c.seq == seq {
					c.offset = uint64(j)
					j++
					continue
				}
				last := len(idx) - 1
				idx[j] = idx[last]
				idx = idx[:last]
			}
			e.pending = idx
		}
		out[i] = encodeNode(deflate(idx), e.key, e.value)
	}
	return out, nil
}
