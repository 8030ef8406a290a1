package hypercore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestNodeCache checks the node record against the database after
// appends and truncations, with every index read (and so recorded)
// before each change, so stale records would show: complete, as for a
// core created empty, and not, as for a core reopened.
func TestNodeCache(t *testing.T) {
	for _, complete := range []bool{true, false} {
		t.Run(fmt.Sprintf("complete=%v", complete), func(t *testing.T) { testNodeCache(t, complete) })
	}
}

func testNodeCache(t *testing.T, complete bool) {
	ctx := context.Background()
	c := memCore(t, &Options{KeyPair: seedKeyPair(7)})
	st := c.st
	if !st.nodes.complete {
		t.Fatal("the record of a new core is not complete")
	}
	if !complete {
		st.nodes.reset()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(step int) {
		t.Helper()
		hi := 2*c.Length() + 2*nodeCachePageNodes
		for i := range hi {
			want, wok, err := st.sc.Node(i)
			if err != nil {
				t.Fatal(err)
			}
			has, err := st.nodes.HasNode(i)
			if err != nil {
				t.Fatal(err)
			}
			got, ok, err := st.nodes.Node(i)
			if err != nil {
				t.Fatal(err)
			}
			if has != wok || ok != wok || got != want {
				t.Fatalf("step %d: node %d: cache has=%v ok=%v %v, stored %v %v", step, i, has, ok, got, wok, want)
			}
		}
	}
	for step := range 12 {
		if c.Length() > 0 && rng.IntN(3) == 0 {
			if err := c.Truncate(ctx, rng.Uint64N(c.Length()), nil); err != nil {
				t.Fatal(err)
			}
		} else {
			blocks := make([][]byte, 1+rng.IntN(3000))
			for i := range blocks {
				blocks[i] = []byte{byte(step), byte(i)}
			}
			mustAppend(t, c, blocks...)
		}
		check(step)
	}
	if st.nodes.complete != complete {
		t.Errorf("complete = %v", st.nodes.complete)
	}
	checkVerifies(t, c)
}
