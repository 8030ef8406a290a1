package hypercore

import (
	"bytes"
	"fmt"
	"testing"
)

// TestReadAheadSlab: blocks handed out of a window stay intact while the
// windows after it are read, and a window's slab is reused once its blocks
// are released.
func TestReadAheadSlab(t *testing.T) {
	c := memCore(t, nil)
	const n = 4 * readAheadBlocks
	block := func(i uint64) []byte { return bytes.Repeat([]byte(fmt.Sprintf("block %04d ", i)), 100) }
	for i := range uint64(n) {
		mustAppend(t, c, block(i))
	}
	st := c.st
	read := func(i uint64) ([]byte, func()) {
		t.Helper()
		st.mu.RLock()
		defer st.mu.RUnlock()
		v, release, err := st.ra.block(st.sc, st.tree.Fork(), st.tree.Length(), i)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		if !bytes.Equal(v, block(i)) {
			t.Fatalf("block %d: got %.20q", i, v)
		}
		return v, release
	}

	_, release := read(0) // not sequential: read alone
	release()
	kept, keep := read(1) // fills a window [1, 1+readAheadBlocks) and keeps a block out
	first := st.ra.slab
	var second *slab
	for i := uint64(2); i < n; i++ {
		_, release := read(i)
		release()
		switch i {
		case 1 + readAheadBlocks: // the second window
			second = st.ra.slab
			if second == first {
				t.Fatal("the slab of a block still out was reused")
			}
		case 1 + 2*readAheadBlocks: // the third: every block of the second released
			if st.ra.slab != second {
				t.Fatal("a slab with no block out was not reused")
			}
		}
	}
	if !bytes.Equal(kept, block(1)) {
		t.Fatalf("block 1 changed while out: %.20q", kept)
	}
	keep()
	if first.refs != 0 || second.refs != 0 {
		t.Fatalf("refs after every release: %d, %d", first.refs, second.refs)
	}
}
