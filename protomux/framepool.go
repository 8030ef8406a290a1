package protomux

import (
	"math/bits"
	"sync"
)

// Frames the writer has written go back to a pool shared by every mux, by
// capacity class (powers of two from minPooledFrame to 16 MiB),
// for the batches to come: a replicating peer sends its answers in batches
// of tens of KiB to a few MiB, several in the writer's queue at once, and
// allocated anew each time they were a third of what it allocated. A mux
// keeps nothing of its own when idle.
const (
	minPooledFrame = 4 << 10
	frameClasses   = 13 // 4 KiB … 16 MiB
)

var framePools [frameClasses]sync.Pool // of *[]byte, cap exactly the class size

// frameClass returns the class of buffers of capacity minPooledFrame<<class
// that hold n bytes, or -1 for n outside the classes.
func frameClass(n int) int {
	if n < minPooledFrame {
		return -1
	}
	c := bits.Len(uint(n-1)) - bits.Len(minPooledFrame-1)
	if c >= frameClasses {
		return -1
	}
	return c
}

// getFrame returns an empty buffer of capacity at least n: for a small or
// huge n a new one that fits, else a pooled one or a new one of its
// class's size, so that it goes back to the pool.
func getFrame(n int) []byte {
	c := frameClass(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	if p, ok := framePools[c].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, minPooledFrame<<c)
}

// putFrame gives a written frame back to the pool. Only buffers whose
// capacity is a class size go back: the others (small frames, and frames
// not from getFrame) are left to the garbage collector. A Stream does not
// keep a message after WriteMessage returns.
func putFrame(f []byte) {
	n := cap(f)
	if n < minPooledFrame || n&(n-1) != 0 {
		return
	}
	c := frameClass(n)
	if c < 0 {
		return
	}
	f = f[:0]
	framePools[c].Put(&f)
}
