// Package bufpool pools byte buffers by size class, powers of two from
// 4 KiB to 16 MiB, in sync.Pools shared by the whole process: the frames
// a protomux writes and the blocks a replicator holds until they are
// stored are taken from it and given back, instead of being left to the
// garbage collector at the rate data flows. It has no JS counterpart.
package bufpool

import (
	"math/bits"
	"sync"
)

const (
	// MinSize is the smallest pooled capacity: smaller buffers are cheap
	// to allocate and are not pooled.
	MinSize = 4 << 10
	classes = 13 // MinSize … 16 MiB
)

var pools [classes]sync.Pool // of *[]byte, cap exactly the class size

// class returns the class of buffers of capacity MinSize<<class that hold
// n bytes, or -1 for n outside the classes.
func class(n int) int {
	if n < MinSize {
		return -1
	}
	c := bits.Len(uint(n-1)) - bits.Len(MinSize-1)
	if c >= classes {
		return -1
	}
	return c
}

// Get returns an empty buffer of capacity at least n: for an n under
// MinSize or over 16 MiB a new one that fits, else a pooled one or a new
// one of its class's size, so that Put takes it back.
func Get(n int) []byte {
	c := class(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	if p, ok := pools[c].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, MinSize<<c)
}

// Put gives b back for a later Get; the caller must not use it after.
// Only buffers whose capacity is a class size are kept: the others (small
// buffers, and buffers not from Get) are left to the garbage collector.
func Put(b []byte) {
	n := cap(b)
	if n < MinSize || n&(n-1) != 0 {
		return
	}
	c := class(n)
	if c < 0 {
		return
	}
	p := new([]byte) // here, not &b: that would move every b to the heap
	*p = b[:0]
	pools[c].Put(p)
}
