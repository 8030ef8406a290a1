package hyperbee

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/gopear/gopear/internal/jsref"
)

// The JS side of these tests is interop/hyperbee/bee.js: real hyperbee
// 2.27.3 bees on hypercore 11 cores, driven over JSON lines. One
// pseudo-random operation sequence (puts, deletions, subs, compare-and-swap,
// batches) is run by JS and by Go, and a set of queries is answered by both:
//
//  1. Go reads the blocks JS wrote and answers every query as JS does;
//  2. Go, doing the same operations, appends byte-identical blocks;
//  3. JS reads the blocks Go wrote and answers as Go does.

// jsOp is one operation, as bee.js reads it. K and V are hex and always
// sent (the empty key is a key).
type jsOp struct {
	T   string   `json:"t"`
	K   string   `json:"k"`
	V   string   `json:"v"`
	Sub []string `json:"sub,omitempty"`
	CAS string   `json:"cas,omitempty"`
	Ops []jsOp   `json:"ops,omitempty"`
}

type jsRunResult struct {
	Blocks  []string          `json:"blocks"`
	Results []json.RawMessage `json:"results"`
	Length  int               `json:"length"`
	Error   string            `json:"error"`
}

// opGen makes the operation sequence: keys from a pool over a small
// alphabet with edge bytes (so that keys share prefixes and sort on 0x00
// and 0xff), a growing phase and then a shrinking one (so that deletions
// borrow, merge and collapse the root).
type opGen struct {
	r    *rand.Rand
	pool [][]byte
	subs [][]string
	live map[string][]byte // full key (hex of sub path + key) -> key, for deletions
}

var keyAlphabet = []byte{0x00, 0x01, 'a', 'b', 'c', 'd', 0x7f, 0x80, 0xfe, 0xff}

func newOpGen(seed uint64, poolSize int) *opGen {
	g := &opGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), live: map[string][]byte{}}
	seen := map[string]bool{}
	g.pool = append(g.pool, []byte{})
	seen[""] = true
	for len(g.pool) < poolSize {
		k := make([]byte, 1+g.r.IntN(8))
		for i := range k {
			if g.r.IntN(4) == 0 {
				k[i] = byte(g.r.IntN(256))
			} else {
				k[i] = keyAlphabet[g.r.IntN(len(keyAlphabet))]
			}
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			g.pool = append(g.pool, k)
		}
	}
	g.subs = [][]string{nil, {hex.EncodeToString([]byte("s1"))}, {hex.EncodeToString([]byte("s2"))},
		{hex.EncodeToString([]byte("s1")), hex.EncodeToString([]byte("n"))}}
	return g
}

func (g *opGen) value() []byte {
	v := make([]byte, g.r.IntN(12))
	for i := range v {
		v[i] = byte(g.r.IntN(256))
	}
	return v
}

func liveKey(sub []string, k []byte) string { return fmt.Sprint(sub) + "|" + string(k) }

// op makes one put or deletion; growing tilts it towards puts.
func (g *opGen) op(growing bool, sub []string) jsOp {
	putShare := 75
	if !growing {
		putShare = 30
	}
	var o jsOp
	if g.r.IntN(100) < putShare {
		k := g.pool[g.r.IntN(len(g.pool))]
		o = jsOp{T: "put", K: hex.EncodeToString(k), V: hex.EncodeToString(g.value())}
		g.live[liveKey(sub, k)] = k
	} else {
		var k []byte
		if len(g.live) > 0 && g.r.IntN(10) < 8 {
			// Any live key of this sub; map order is random but the
			// choice must be reproducible, so pick from the pool.
			for range 20 {
				c := g.pool[g.r.IntN(len(g.pool))]
				if _, ok := g.live[liveKey(sub, c)]; ok {
					k = c
					break
				}
			}
		}
		if k == nil {
			k = g.pool[g.r.IntN(len(g.pool))]
		}
		o = jsOp{T: "del", K: hex.EncodeToString(k), V: ""}
		delete(g.live, liveKey(sub, k))
	}
	switch g.r.IntN(20) {
	case 0:
		o.CAS = "neq"
	case 1:
		o.CAS = "even"
	}
	return o
}

func (g *opGen) ops(n int) []jsOp {
	var ops []jsOp
	for i := range n {
		growing := i < n*6/10
		switch c := g.r.IntN(100); {
		case c < 8: // a batch on the root bee
			b := jsOp{T: "batch"}
			for range 1 + g.r.IntN(40) {
				b.Ops = append(b.Ops, g.op(growing, nil))
			}
			ops = append(ops, b)
		case c < 20: // an operation through a sub
			sub := g.subs[1+g.r.IntN(len(g.subs)-1)]
			o := g.op(growing, sub)
			o.Sub = sub
			ops = append(ops, o)
		default:
			ops = append(ops, g.op(growing, nil))
		}
	}
	return ops
}

// queries makes the queries both sides answer, at several versions.
// Versions are taken from bounds, the lengths between top-level
// operations: the version inside a batch has no root of its own (JS
// compacts it away), so JS cannot check it out.
func (g *opGen) queries(bounds []int) []map[string]any {
	length := bounds[len(bounds)-1]
	pick := func() int { return bounds[g.r.IntN(len(bounds))] }
	versions := []int{0, 1, bounds[min(1, len(bounds)-1)], bounds[len(bounds)/3], bounds[len(bounds)/2], length}
	for range 4 {
		versions = append(versions, pick())
	}
	key := func() string { return hex.EncodeToString(g.pool[g.r.IntN(len(g.pool))]) }
	var qs []map[string]any
	add := func(q map[string]any) { qs = append(qs, q) }
	for vi, v := range versions {
		vlen := v // the version's own length
		if v == 0 {
			vlen = length
		}
		seq := func() int { return 1 + g.r.IntN(max(1, vlen-1)) }
		for range 12 {
			add(map[string]any{"q": "get", "version": v, "k": key()})
		}
		for _, sub := range g.subs[1:] {
			add(map[string]any{"q": "get", "version": v, "k": key(), "sub": sub})
		}
		if vi < 3 || vi == 5 || vi == 6 {
			add(map[string]any{"q": "range", "version": v})
			add(map[string]any{"q": "range", "version": v, "reverse": true})
		}
		add(map[string]any{"q": "version", "version": v})
		add(map[string]any{"q": "range", "version": v, "limit": 10})
		add(map[string]any{"q": "range", "version": v, "reverse": true, "limit": 7})
		for range 3 {
			a, b := key(), key()
			if a > b {
				a, b = b, a
			}
			add(map[string]any{"q": "range", "version": v, "gt": a, "lt": b})
			add(map[string]any{"q": "range", "version": v, "gte": a, "lte": b, "reverse": true})
			add(map[string]any{"q": "range", "version": v, "gte": a, "limit": 5})
			add(map[string]any{"q": "range", "version": v, "lte": b, "reverse": true, "limit": 9})
			add(map[string]any{"q": "range", "version": v, "gt": b})
			add(map[string]any{"q": "range", "version": v, "lt": a, "reverse": true})
		}
		for _, sub := range g.subs[1:] {
			add(map[string]any{"q": "range", "version": v, "sub": sub})
			add(map[string]any{"q": "range", "version": v, "sub": sub, "reverse": true, "limit": 4})
			add(map[string]any{"q": "range", "version": v, "sub": sub, "gte": key()})
		}
		if vlen > 1 {
			add(map[string]any{"q": "history", "version": v, "reverse": true, "limit": 20})
			add(map[string]any{"q": "history", "version": v, "gte": seq(), "limit": 30})
			add(map[string]any{"q": "history", "version": v, "lte": seq(), "reverse": true, "limit": 5})
		}
		if vlen > 41 { // negative bounds count back from the version; JS fails below seq 1
			add(map[string]any{"q": "history", "version": v, "gt": -5})
			add(map[string]any{"q": "history", "version": v, "lt": -3, "gte": -40})
		}
		other := pick()
		add(map[string]any{"q": "diff", "version": v, "other": other})
		add(map[string]any{"q": "diff", "version": v, "other": other, "limit": 6})
		a := key()
		add(map[string]any{"q": "diff", "version": v, "other": pick(), "gte": a})
		add(map[string]any{"q": "diff", "version": v, "other": pick(), "lt": a})
		add(map[string]any{"q": "diff", "version": v, "other": other, "sub": g.subs[1]})
	}
	add(map[string]any{"q": "history"})
	add(map[string]any{"q": "header"})
	return qs
}

func casRule(name string) CASFunc {
	switch name {
	case "neq":
		return func(prev, next Entry) bool { return !sameValue(prev.Value, next.Value) }
	case "even":
		return func(prev, next Entry) bool { return prev.Seq%2 == 0 }
	}
	return nil
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func subOf(t testing.TB, b *Bee, names []string) *Bee {
	for _, n := range names {
		b = b.Sub(unhex(t, n))
	}
	return b
}

// applyOps runs ops on bee as bee.js does, and returns the core's length
// after each of them.
func applyOps(t testing.TB, ctx context.Context, bee *Bee, ops []jsOp) []int {
	t.Helper()
	var bounds []int
	for i, o := range ops {
		var err error
		switch o.T {
		case "batch":
			bt := bee.Batch()
			for _, bo := range o.Ops {
				if bo.T == "put" {
					_, err = bt.PutCAS(ctx, unhex(t, bo.K), unhex(t, bo.V), casRule(bo.CAS))
				} else {
					_, err = bt.DelCAS(ctx, unhex(t, bo.K), casRule(bo.CAS))
				}
				if err != nil {
					break
				}
			}
			if err == nil {
				err = bt.Flush(ctx)
			}
			bt.Close()
		case "put":
			_, err = subOf(t, bee, o.Sub).PutCAS(ctx, unhex(t, o.K), unhex(t, o.V), casRule(o.CAS))
		case "del":
			_, err = subOf(t, bee, o.Sub).DelCAS(ctx, unhex(t, o.K), casRule(o.CAS))
		}
		if err != nil {
			t.Fatalf("op %d %+v: %v", i, o, err)
		}
		bounds = append(bounds, int(bee.Core().Length()))
	}
	return bounds
}

func hexOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return hex.EncodeToString(b)
}

func entryJSON(e *Entry) any {
	if e == nil {
		return nil
	}
	return []any{e.Seq, hex.EncodeToString(e.Key), hexOrNil(e.Value)}
}

func num(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

func strs(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = s.(string)
		}
		return out
	}
	return nil
}

func rangeOf(t testing.TB, q map[string]any) Range {
	var r Range
	for f, p := range map[string]*[]byte{"gt": &r.Gt, "gte": &r.Gte, "lt": &r.Lt, "lte": &r.Lte} {
		if s, ok := q[f].(string); ok {
			*p = unhex(t, s)
		}
	}
	r.Reverse, _ = q["reverse"].(bool)
	r.Limit = int(num(q["limit"]))
	return r
}

// goQuery answers q as bee.js does.
func goQuery(t testing.TB, ctx context.Context, root *Bee, q map[string]any) (any, error) {
	b := root
	if v := num(q["version"]); v != 0 {
		b = b.Checkout(uint64(v))
	}
	b = subOf(t, b, strs(q["sub"]))
	switch q["q"] {
	case "get":
		e, err := b.Get(ctx, unhex(t, q["k"].(string)))
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return entryJSON(&e), nil
	case "range":
		out := []any{}
		for e, err := range b.Range(ctx, rangeOf(t, q)) {
			if err != nil {
				return nil, err
			}
			out = append(out, entryJSON(&e))
		}
		return out, nil
	case "history":
		o := HistoryOptions{Gt: num(q["gt"]), Gte: num(q["gte"]), Lt: num(q["lt"]), Lte: num(q["lte"]), Limit: int(num(q["limit"]))}
		o.Reverse, _ = q["reverse"].(bool)
		out := []any{}
		for e, err := range b.History(ctx, o) {
			if err != nil {
				return nil, err
			}
			typ := "put"
			if e.Del {
				typ = "del"
			}
			out = append(out, []any{typ, e.Seq, hex.EncodeToString(e.Key), hexOrNil(e.Value)})
		}
		return out, nil
	case "diff":
		out := []any{}
		other := b.Checkout(uint64(max(1, num(q["other"]))))
		for d, err := range b.Diff(ctx, other, rangeOf(t, q)) {
			if err != nil {
				return nil, err
			}
			out = append(out, []any{entryJSON(d.Left), entryJSON(d.Right)})
		}
		return out, nil
	case "header":
		h, err := root.GetHeader(ctx)
		if err != nil {
			return nil, err
		}
		var cf, ud []byte
		if h.Metadata != nil {
			cf, ud = h.Metadata.ContentFeed, h.Metadata.UserData
		}
		return map[string]any{"protocol": h.Protocol, "contentFeed": hexOrNil(cf), "userData": hexOrNil(ud)}, nil
	case "version":
		return b.Version(), nil
	}
	return nil, fmt.Errorf("unknown query %v", q["q"])
}

// normal round-trips v through JSON, so that Go and JS answers compare.
func normal(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// compareAnswers checks Go's answers on bee against JS's.
func compareAnswers(t *testing.T, ctx context.Context, bee *Bee, queries []map[string]any, js []json.RawMessage) {
	t.Helper()
	if len(js) != len(queries) {
		t.Fatalf("js answered %d queries, want %d", len(js), len(queries))
	}
	failures := 0
	for i, q := range queries {
		got, err := goQuery(t, ctx, bee, q)
		if err != nil {
			t.Errorf("query %d %v: %v", i, q, err)
			failures++
		} else {
			var want any
			if err := json.Unmarshal(js[i], &want); err != nil {
				t.Fatal(err)
			}
			if g := normal(t, got); !reflect.DeepEqual(g, want) {
				t.Errorf("query %d %v:\n got %s\nwant %s", i, short(q), short(g), short(want))
				failures++
			}
		}
		if failures >= 10 {
			t.Fatal("too many failures")
		}
	}
}

func TestInteropRandomOps(t *testing.T) {
	jsref.Require(t)
	ctx := context.Background()
	p := jsref.Start(t, "hyperbee/bee.js")
	defer p.CloseStdin()

	for _, tc := range []struct {
		seed     uint64
		ops      int
		poolSize int
	}{
		{seed: 1, ops: 2500, poolSize: 900},
		{seed: 7, ops: 1200, poolSize: 120},
	} {
		t.Run(fmt.Sprintf("seed=%d", tc.seed), func(t *testing.T) {
			g := newOpGen(tc.seed, tc.poolSize)
			ops := g.ops(tc.ops)

			// Go first, to know the length the queries range over.
			goCore := newMemCore()
			bounds := applyOps(t, ctx, New(goCore, nil), ops)
			goBlocks := goCore.raw()
			queries := g.queries(bounds)

			var js jsRunResult
			p.Send(map[string]any{"op": "run", "ops": ops, "queries": queries})
			p.Recv(&js)
			if js.Error != "" {
				t.Fatalf("js: %s", js.Error)
			}
			t.Logf("%d operations, %d blocks, %d queries", len(ops), len(js.Blocks), len(queries))

			jsBlocks := make([][]byte, len(js.Blocks))
			for i, h := range js.Blocks {
				jsBlocks[i] = unhex(t, h)
			}

			t.Run("GoReadsJS", func(t *testing.T) {
				compareAnswers(t, ctx, New(newMemCore(jsBlocks...), nil), queries, js.Results)
			})

			t.Run("SameBlocks", func(t *testing.T) {
				if len(goBlocks) != len(jsBlocks) {
					t.Errorf("go wrote %d blocks, js %d", len(goBlocks), len(jsBlocks))
				}
				for i := range min(len(goBlocks), len(jsBlocks)) {
					if !bytes.Equal(goBlocks[i], jsBlocks[i]) {
						t.Fatalf("block %d:\n go %x\n js %x", i, goBlocks[i], jsBlocks[i])
					}
				}
			})

			t.Run("JSReadsGo", func(t *testing.T) {
				hexBlocks := make([]string, len(goBlocks))
				for i, b := range goBlocks {
					hexBlocks[i] = hex.EncodeToString(b)
				}
				var jl jsRunResult
				p.Send(map[string]any{"op": "load", "blocks": hexBlocks, "queries": queries})
				p.Recv(&jl)
				if jl.Error != "" {
					t.Fatalf("js: %s", jl.Error)
				}
				compareAnswers(t, ctx, New(newMemCore(goBlocks...), nil), queries, jl.Results)
			})
		})
	}
}

func jsonMarshal(v any) ([]byte, error)   { return json.Marshal(v) }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
