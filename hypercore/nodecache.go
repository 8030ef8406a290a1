package hypercore

import (
	"iter"
	"sync"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/merkle"
)

// nodeCache is the merkle.NodeReader of a core's tree: the core's stored
// nodes, with a record of which node indices are known to be stored and
// which known not to be. Most node reads of a replicating reader are of
// nodes that are not stored (merkle.Tree.MissingNodes walks up from every
// block it asks for, over the same ancestors again and again); the record
// answers those without a database lookup. It also keeps the nodes above
// the leaves that were read, which proofs read again and again (upper);
// the record costs two bits a node.
//
// The record only ever holds what the database held when it was read or
// written. The core updates it in state.commit, under mu, after the
// storage batch committed (apply), so a reader holding mu (or wmu) sees
// either the state before the commit or after it, as it does for the
// tree. A reader that read the database just before a commit may record
// the old answer after the commit wrote, but before apply ran: apply then
// overwrites it.
type nodeCache struct {
	r merkle.NodeReader

	mu    sync.Mutex
	pages map[uint64]*nodeCachePage
	// complete is set while pages records every stored node, so that a
	// node it does not know is not stored: from the creation of a core
	// with no nodes until pages overflows or is reset.
	complete bool
	// upper holds stored nodes of depth nodeCacheUpperDepth and above
	// that were read (a commit updates or drops them): the nodes that
	// proofs read again and again, the uncles of blocks further away.
	// Written nodes are not added, so a replicating reader, which writes
	// many nodes and reads few, does not keep them.
	upper map[uint64]hcrypto.Node

	// win holds the stored nodes of a range read at once, for a core
	// answering a sequential download (see nodeWindow); gen counts the
	// changes recorded, so that a window read before a change is not
	// kept after it.
	win   *nodeWindow // nil when none
	spare *nodeWindow // the previous window, for the next read
	gen   uint64
	last  uint64 // the last node index looked up in the database
}

// nodeRanger is a NodeReader that also reads the nodes of a range of
// blocks at once (storage.Core).
type nodeRanger interface {
	NodesEndingIn(start, end uint64) iter.Seq2[hcrypto.Node, error]
}

// nodeWindow is the stored nodes of [start, start+nodeWindowSize): the
// proofs of a sequential download read leaves a few indices apart, one
// lookup each. After a read that follows the previous one closely, the
// nodes of the next nodeWindowSize/2 blocks are read with one iterator,
// and those in the window's index range kept. A node of the range that
// ends past those blocks (a high parent) is not in the window and is
// looked up alone.
type nodeWindow struct {
	start uint64
	nodes [nodeWindowSize]hcrypto.Node
	has   [nodeWindowSize / 64]uint64
}

const (
	nodeWindowSize = 512
	// nodeWindowGap is how far after the previous database read a read
	// counts as sequential.
	nodeWindowGap = 64
)

func (w *nodeWindow) get(index uint64) (hcrypto.Node, bool) {
	if w == nil || index < w.start || index-w.start >= nodeWindowSize {
		return hcrypto.Node{}, false
	}
	i := index - w.start
	if w.has[i/64]&(1<<(i%64)) == 0 {
		return hcrypto.Node{}, false
	}
	return w.nodes[i], true
}

func (w *nodeWindow) covers(index uint64) bool {
	return w != nil && index >= w.start && index-w.start < nodeWindowSize
}

const (
	nodeCachePageNodes = 4096 // node indices a page covers
	// nodeCacheMaxPages bounds the record at 1 MiB (4M node indices, a
	// fully known core of 2M blocks); past it, the record starts over
	// (and is no longer complete).
	nodeCacheMaxPages = 1024
	// nodeCacheUpperDepth is the depth (height above the leaves) from
	// which nodes are kept in upper: a leaf is in only one proof of a
	// sequential download (its sibling's), the other nodes in several.
	// nodeCacheMaxUpper bounds upper (about 8 MiB, the upper nodes of a
	// core of 128K blocks); past it, upper starts over.
	nodeCacheUpperDepth = 1
	nodeCacheMaxUpper   = 1 << 17
)

// isUpper reports whether node index is of depth nodeCacheUpperDepth or
// more: a flat-tree index of depth d ends in d one bits.
func isUpper(index uint64) bool {
	const mask = 1<<nodeCacheUpperDepth - 1
	return index&mask == mask
}

// nodeCachePage records nodes [n*nodeCachePageNodes, (n+1)*nodeCachePageNodes):
// a node is known when its known bit is set, and then stored when its
// stored bit is set.
type nodeCachePage struct {
	known, stored [nodeCachePageNodes / 64]uint64
}

// newNodeCache returns the record of r's nodes. empty says that r stores
// no node, which makes the record complete from the start.
func newNodeCache(r merkle.NodeReader, empty bool) *nodeCache {
	return &nodeCache{r: r, pages: make(map[uint64]*nodeCachePage), upper: make(map[uint64]hcrypto.Node), complete: empty}
}

var _ merkle.NodeHaser = (*nodeCache)(nil)

// HasNode implements merkle.NodeHaser: only nodes not yet known are read.
func (c *nodeCache) HasNode(index uint64) (bool, error) {
	c.mu.Lock()
	known, stored := c.lookupLocked(index)
	c.mu.Unlock()
	if known {
		return stored, nil
	}
	_, ok, err := c.Node(index)
	return ok, err
}

// Node implements merkle.NodeReader.
func (c *nodeCache) Node(index uint64) (hcrypto.Node, bool, error) {
	c.mu.Lock()
	if n, ok := c.upper[index]; ok {
		c.mu.Unlock()
		return n, true, nil
	}
	if n, ok := c.win.get(index); ok {
		c.mu.Unlock()
		return n, true, nil
	}
	known, stored := c.lookupLocked(index)
	sequential := index > c.last && index-c.last <= nodeWindowGap
	c.last = index
	c.mu.Unlock()
	if known && !stored {
		return hcrypto.Node{}, false, nil
	}
	if sequential {
		if n, ok, err := c.readWindow(index); err != nil || ok {
			return n, ok, err
		}
	}
	n, ok, err := c.r.Node(index)
	if err == nil && (!known || ok && isUpper(index)) {
		c.mu.Lock()
		c.setLocked(index, ok)
		if ok {
			c.putUpperLocked(n)
		}
		c.mu.Unlock()
	}
	return n, ok, err
}

// readWindow reads the stored nodes of [index, index+nodeWindowSize) into
// the window and returns node index if it is among them. ok is false
// when it is not (the caller looks it up alone) or the reader cannot read
// ranges.
func (c *nodeCache) readWindow(index uint64) (hcrypto.Node, bool, error) {
	nr, isRanger := c.r.(nodeRanger)
	if !isRanger {
		return hcrypto.Node{}, false, nil
	}
	c.mu.Lock()
	gen := c.gen
	w := c.spare
	c.spare = nil
	c.mu.Unlock()
	if w == nil {
		w = new(nodeWindow)
	}
	w.start, w.has = index, [nodeWindowSize / 64]uint64{}
	for n, err := range nr.NodesEndingIn(index/2, index/2+nodeWindowSize/2) {
		if err != nil {
			return hcrypto.Node{}, false, err
		}
		if n.Index < index || n.Index-index >= nodeWindowSize {
			continue
		}
		i := n.Index - index
		w.nodes[i] = n
		w.has[i/64] |= 1 << (i % 64)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		c.spare = w
		return hcrypto.Node{}, false, nil // a change came in between
	}
	c.win, c.spare = w, c.win
	n, ok := w.get(index)
	return n, ok, nil
}

// putUpperLocked keeps n in upper if it is an upper node.
func (c *nodeCache) putUpperLocked(n hcrypto.Node) {
	if !isUpper(n.Index) {
		return
	}
	if len(c.upper) >= nodeCacheMaxUpper {
		clear(c.upper)
	}
	c.upper[n.Index] = n
}

func (c *nodeCache) lookupLocked(index uint64) (known, stored bool) {
	p := c.pages[index/nodeCachePageNodes]
	if p == nil {
		return c.complete, false
	}
	i := index % nodeCachePageNodes
	w, bit := i/64, uint64(1)<<(i%64)
	return c.complete || p.known[w]&bit != 0, p.stored[w]&bit != 0
}

func (c *nodeCache) setLocked(index uint64, stored bool) {
	p := c.pages[index/nodeCachePageNodes]
	if p == nil {
		if len(c.pages) >= nodeCacheMaxPages {
			clear(c.pages)
			c.complete = false
		}
		p = new(nodeCachePage)
		c.pages[index/nodeCachePageNodes] = p
	}
	i := index % nodeCachePageNodes
	w, bit := i/64, uint64(1)<<(i%64)
	p.known[w] |= bit
	if stored {
		p.stored[w] |= bit
	} else {
		p.stored[w] &^= bit
	}
}

// apply records the changes of a committed storage batch. The caller
// holds mu.
func (c *nodeCache) apply(ch *merkle.Changes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.dropWindowLocked(ch)
	if ch.DeleteEnd > ch.DeleteStart {
		for i := range c.upper {
			if i >= ch.DeleteStart && i < ch.DeleteEnd {
				delete(c.upper, i)
			}
		}
		for n, p := range c.pages {
			lo, hi := n*nodeCachePageNodes, (n+1)*nodeCachePageNodes
			if hi <= ch.DeleteStart || lo >= ch.DeleteEnd {
				continue
			}
			if lo >= ch.DeleteStart && hi <= ch.DeleteEnd {
				*p = nodeCachePage{known: p.known} // all known, none stored
				for w := range p.known {
					p.known[w] = ^uint64(0)
				}
				continue
			}
			for i := max(lo, ch.DeleteStart); i < min(hi, ch.DeleteEnd); i++ {
				c.setLocked(i, false)
			}
		}
	}
	for _, i := range ch.Delete {
		c.setLocked(i, false)
		delete(c.upper, i)
	}
	for _, n := range ch.Nodes {
		c.setLocked(n.Index, true)
		if _, ok := c.upper[n.Index]; ok {
			c.upper[n.Index] = n
		}
	}
}

// dropWindowLocked drops the window if ch changes a node in it.
func (c *nodeCache) dropWindowLocked(ch *merkle.Changes) {
	w := c.win
	if w == nil {
		return
	}
	drop := ch.DeleteEnd > ch.DeleteStart && ch.DeleteStart < w.start+nodeWindowSize && ch.DeleteEnd > w.start
	for _, i := range ch.Delete {
		drop = drop || w.covers(i)
	}
	for _, n := range ch.Nodes {
		drop = drop || w.covers(n.Index)
	}
	if drop {
		c.win, c.spare = nil, w
	}
}

// reset forgets everything recorded, for when the database's state is in
// doubt (a failed commit).
func (c *nodeCache) reset() {
	c.mu.Lock()
	c.gen++
	c.win = nil
	clear(c.pages)
	clear(c.upper)
	c.complete = false
	c.mu.Unlock()
}
