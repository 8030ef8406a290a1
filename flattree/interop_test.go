package flattree_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/internal/jsref"
)

// jsIndex is what interop/flattree/functions.js reports for one index.
// Numbers are float64 because JS returns -1 and null for leaves.
type jsIndex struct {
	Index       uint64    `json:"index"`
	Depth       uint64    `json:"depth"`
	Offset      uint64    `json:"offset"`
	Parent      uint64    `json:"parent"`
	Sibling     uint64    `json:"sibling"`
	LeftChild   int64     `json:"leftChild"`
	RightChild  int64     `json:"rightChild"`
	Children    []uint64  `json:"children"`
	LeftSpan    uint64    `json:"leftSpan"`
	RightSpan   uint64    `json:"rightSpan"`
	Spans       [2]uint64 `json:"spans"`
	Count       uint64    `json:"count"`
	CountLeaves uint64    `json:"countLeaves"`
	NextLeaf    uint64    `json:"nextLeaf"`
	FullRoots   []uint64  `json:"fullRoots"`
	FutureRoots []uint64  `json:"futureRoots"`
}

type jsStep struct {
	R      any    `json:"r"`
	Index  uint64 `json:"index"`
	Offset uint64 `json:"offset"`
	Factor uint64 `json:"factor"`
}

type program struct {
	Start uint64  `json:"start"`
	Ops   [][]any `json:"ops"`
}

type jsRequest struct {
	Indices  []uint64    `json:"indices"`
	Patches  [][2]uint64 `json:"patches"`
	Programs []program   `json:"programs"`
}

type jsResponse struct {
	Indices  []jsIndex  `json:"indices"`
	Patches  [][]uint64 `json:"patches"`
	Programs [][]jsStep `json:"programs"`
}

// interopIndices are every index below 1024, and the neighbourhoods of
// powers of two and of random indices up to 2^50 (JS numbers are exact
// below 2^53, and Index of a high node can exceed the index it came from).
func interopIndices(r *rand.Rand) []uint64 {
	var idx []uint64
	for i := range uint64(1024) {
		idx = append(idx, i)
	}
	for k := 10; k <= 50; k++ {
		p := uint64(1) << k
		for d := p - 3; d <= p+3; d++ {
			idx = append(idx, d)
		}
	}
	for range 500 {
		idx = append(idx, r.Uint64N(1<<50))
	}
	return idx
}

func TestInteropFunctions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	req := jsRequest{Indices: interopIndices(r)}
	for from := uint64(0); from <= 64; from += 2 {
		for to := uint64(0); to <= 80; to += 2 {
			req.Patches = append(req.Patches, [2]uint64{from, to})
		}
	}
	for range 200 {
		from := 2 * r.Uint64N(1<<40)
		to := from + 2*r.Uint64N(1<<40)
		req.Patches = append(req.Patches, [2]uint64{from, to})
	}
	var resp jsResponse
	jsref.JSON(t, req, &resp, "flattree/functions.js")

	if len(resp.Indices) != len(req.Indices) {
		t.Fatalf("JS answered for %d indices, want %d", len(resp.Indices), len(req.Indices))
	}
	for _, js := range resp.Indices {
		i := js.Index
		var got jsIndex
		got.Index = i
		got.Depth = flattree.Depth(i)
		got.Offset = flattree.Offset(i)
		got.Parent = flattree.Parent(i)
		got.Sibling = flattree.Sibling(i)
		got.LeftChild, got.RightChild = -1, -1
		if c, ok := flattree.LeftChild(i); ok {
			got.LeftChild = int64(c)
		}
		if c, ok := flattree.RightChild(i); ok {
			got.RightChild = int64(c)
		}
		if l, r, ok := flattree.Children(i); ok {
			got.Children = []uint64{l, r}
		}
		got.LeftSpan = flattree.LeftSpan(i)
		got.RightSpan = flattree.RightSpan(i)
		got.Spans[0], got.Spans[1] = flattree.Spans(i)
		got.Count = flattree.Count(i)
		got.CountLeaves = flattree.CountLeaves(i)
		got.NextLeaf = flattree.NextLeaf(i)
		if i&1 == 0 {
			got.FullRoots = orEmpty(flattree.FullRoots(i))
			got.FutureRoots = orEmpty(flattree.FutureRoots(i))
		}
		if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", js); g != w {
			t.Errorf("index %d:\n got %s\nwant %s", i, g, w)
		}
	}

	for k, p := range req.Patches {
		got := orEmpty(flattree.Patch(p[0], p[1]))
		if want := resp.Patches[k]; !slices.Equal(got, want) {
			t.Errorf("Patch(%d, %d) = %v, want %v", p[0], p[1], got, want)
		}
	}
}

func orEmpty(s []uint64) []uint64 {
	if s == nil {
		return []uint64{}
	}
	return s
}

// randomProgram returns a start index and a walk over the iterator's
// moves and queries. It keeps to uses that are defined in JS (FullRoot is
// tested by TestInteropFullRootWalk).
func randomProgram(r *rand.Rand) program {
	p := program{Start: r.Uint64N(1 << 32)}
	if r.IntN(4) == 0 {
		p.Start = r.Uint64N(64)
	}
	moves := []string{"prev", "next", "sibling", "parent", "leftSpan", "rightSpan",
		"leftChild", "rightChild", "nextTree", "prevTree"}
	queries := []string{"isLeft", "isRight", "count", "countLeaves", "peekLeftSpan", "peekRightSpan"}
	for range 40 {
		switch k := r.IntN(10); {
		case k < 6:
			p.Ops = append(p.Ops, []any{moves[r.IntN(len(moves))]})
		case k < 8:
			p.Ops = append(p.Ops, []any{queries[r.IntN(len(queries))]})
		case k < 9:
			arg := r.Uint64N(1 << 33)
			if r.IntN(2) == 0 {
				arg = r.Uint64N(128)
			}
			p.Ops = append(p.Ops, []any{"contains", arg})
		default:
			p.Ops = append(p.Ops, []any{"isRoot", r.Uint64N(1 << 32)})
		}
		if r.IntN(20) == 0 {
			p.Ops = append(p.Ops, []any{"seek", r.Uint64N(1 << 32)})
		}
	}
	return p
}

// run applies one op to it and returns its result as JSON would carry it.
func run(t *testing.T, it *flattree.Iterator, op []any) any {
	t.Helper()
	arg := func() uint64 { return op[1].(uint64) }
	switch op[0] {
	case "seek":
		it.Seek(arg())
		return nil
	case "prev":
		return it.Prev()
	case "next":
		return it.Next()
	case "sibling":
		return it.Sibling()
	case "parent":
		return it.Parent()
	case "leftSpan":
		return it.LeftSpan()
	case "rightSpan":
		return it.RightSpan()
	case "leftChild":
		return it.LeftChild()
	case "rightChild":
		return it.RightChild()
	case "nextTree":
		return it.NextTree()
	case "prevTree":
		return it.PrevTree()
	case "isLeft":
		return it.IsLeft()
	case "isRight":
		return it.IsRight()
	case "count":
		return it.Count()
	case "countLeaves":
		return it.CountLeaves()
	case "peekLeftSpan":
		return it.PeekLeftSpan()
	case "peekRightSpan":
		return it.PeekRightSpan()
	case "contains":
		return it.Contains(arg())
	case "isRoot":
		return it.IsRoot(arg())
	case "fullRoot":
		return it.FullRoot(arg())
	}
	t.Fatalf("unknown op %v", op)
	return nil
}

// sameResult compares a Go result with a JS one decoded as any.
func sameResult(got, want any) bool {
	switch g := got.(type) {
	case nil:
		return want == nil
	case bool:
		return want == g
	case uint64:
		w, ok := want.(float64)
		return ok && w == float64(g)
	}
	return false
}

func TestInteropIterator(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var req jsRequest
	for range 300 {
		req.Programs = append(req.Programs, randomProgram(r))
	}
	// FullRoot walks from leaf 0, as hypercore uses it, for many lengths.
	for n := uint64(0); n <= 300; n++ {
		p := program{Start: 0}
		for range 12 {
			p.Ops = append(p.Ops, []any{"fullRoot", 2 * n}, []any{"nextTree"})
		}
		req.Programs = append(req.Programs, p)
	}
	var resp jsResponse
	jsref.JSON(t, req, &resp, "flattree/functions.js")

	for k, p := range req.Programs {
		it := flattree.NewIterator(p.Start)
		for s, op := range p.Ops {
			got := run(t, it, op)
			want := resp.Programs[k][s]
			if !sameResult(got, want.R) || it.Index() != want.Index || it.Offset() != want.Offset || it.Factor() != want.Factor {
				t.Fatalf("program %d (start %d), step %d %v: got r=%v index=%d offset=%d factor=%d, want r=%v index=%d offset=%d factor=%d",
					k, p.Start, s, op, got, it.Index(), it.Offset(), it.Factor(), want.R, want.Index, want.Offset, want.Factor)
			}
		}
	}
}
