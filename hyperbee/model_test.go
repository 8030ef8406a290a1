package hyperbee

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the reference a bee is checked against: a plain map, sorted
// when asked.
type model map[string]string

func (m model) sorted(r Range) []string {
	keys := slices.Sorted(maps.Keys(m))
	var out []string
	for _, k := range keys {
		b := []byte(k)
		switch {
		case r.Gt != nil && bytes.Compare(b, r.Gt) <= 0,
			r.Gt == nil && r.Gte != nil && bytes.Compare(b, r.Gte) < 0,
			r.Lt != nil && bytes.Compare(b, r.Lt) >= 0,
			r.Lt == nil && r.Lte != nil && bytes.Compare(b, r.Lte) > 0:
			continue
		}
		out = append(out, k)
	}
	if r.Reverse {
		slices.Reverse(out)
	}
	if r.Limit > 0 && len(out) > r.Limit {
		out = out[:r.Limit]
	}
	return out
}

// TestModel runs random operations on a bee and on a map, and checks
// that every read agrees, at the latest version and at checkouts of
// earlier ones.
func TestModel(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runModel(t, seed, 3000) })
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 99))
	bee := New(newMemCore(), nil)
	m := model{}
	type saved struct {
		version uint64
		m       model
	}
	var versions []saved

	keyOf := func() []byte {
		// A small key space so that puts overwrite and deletions hit.
		n := r.IntN(600)
		k := fmt.Appendf(nil, "%03d", n)
		return k[:1+r.IntN(3)]
	}
	randRange := func() Range {
		var rg Range
		a, b := keyOf(), keyOf()
		if bytes.Compare(a, b) > 0 {
			a, b = b, a
		}
		switch r.IntN(3) {
		case 0:
			rg.Gt = a
		case 1:
			rg.Gte = a
		}
		switch r.IntN(3) {
		case 0:
			rg.Lt = b
		case 1:
			rg.Lte = b
		}
		rg.Reverse = r.IntN(2) == 0
		if r.IntN(3) == 0 {
			rg.Limit = 1 + r.IntN(20)
		}
		return rg
	}
	checkRange := func(b *Bee, m model, rg Range) {
		t.Helper()
		want := m.sorted(rg)
		var got []string
		for e, err := range b.Range(ctx, rg) {
			if err != nil {
				t.Fatal(err)
			}
			if string(e.Value) != m[string(e.Key)] {
				t.Fatalf("range %+v: key %q has %q, want %q", rg, e.Key, e.Value, m[string(e.Key)])
			}
			got = append(got, string(e.Key))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("range %+v at version %d:\n got %q\nwant %q", rg, b.Version(), got, want)
		}
	}

	for step := range steps {
		switch c := r.IntN(100); {
		case c < 50:
			k, v := keyOf(), fmt.Appendf(nil, "v%d", step)
			if err := bee.Put(ctx, k, v); err != nil {
				t.Fatal(err)
			}
			m[string(k)] = string(v)
		case c < 75:
			k := keyOf()
			if err := bee.Del(ctx, k); err != nil {
				t.Fatal(err)
			}
			delete(m, string(k))
		case c < 80: // compare-and-swap: only replace values of even steps
			k, v := keyOf(), fmt.Appendf(nil, "v%d", step)
			cas := func(prev, next Entry) bool { return prev.Seq%2 == 0 }
			before := bee.Version()
			written, err := bee.PutCAS(ctx, k, v, cas)
			if err != nil {
				t.Fatal(err)
			}
			old, had := m[string(k)]
			_ = old
			if had {
				prev, _ := bee.Checkout(before).Get(ctx, k)
				if want := prev.Seq%2 == 0; written != want {
					t.Fatalf("PutCAS wrote=%v, want %v", written, want)
				}
			} else if !written {
				t.Fatal("PutCAS of a new key did not write")
			}
			if written {
				m[string(k)] = string(v)
			}
		case c < 88: // a batch
			bt := bee.Batch()
			for range 1 + r.IntN(30) {
				k := keyOf()
				if r.IntN(3) == 0 {
					if err := bt.Del(ctx, k); err != nil {
						t.Fatal(err)
					}
					delete(m, string(k))
				} else {
					v := fmt.Appendf(nil, "b%d", step)
					if err := bt.Put(ctx, k, v); err != nil {
						t.Fatal(err)
					}
					m[string(k)] = string(v)
				}
				// The batch sees its own writes.
				probe := keyOf()
				e, err := bt.Get(ctx, probe)
				if want, ok := m[string(probe)]; ok != (err == nil) || (ok && string(e.Value) != want) {
					t.Fatalf("batch get %q: %q, %v; want %q, %v", probe, e.Value, err, want, ok)
				}
			}
			if err := bt.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		case c < 93:
			checkRange(bee, m, randRange())
		case c < 96:
			versions = append(versions, saved{bee.Version(), maps.Clone(m)})
		default:
			if len(versions) == 0 {
				continue
			}
			sv := versions[r.IntN(len(versions))]
			co := bee.Checkout(sv.version)
			checkRange(co, sv.m, randRange())
			checkDiff(t, ctx, bee, co, m, sv.m)
		}
		if step%50 == 0 {
			for range 5 {
				k := keyOf()
				e, err := bee.Get(ctx, k)
				want, ok := m[string(k)]
				switch {
				case ok && err != nil:
					t.Fatalf("get %q: %v, want %q", k, err, want)
				case !ok && !errors.Is(err, ErrNotFound):
					t.Fatalf("get %q: %q, %v; want not found", k, e.Value, err)
				case ok && string(e.Value) != want:
					t.Fatalf("get %q: %q, want %q", k, e.Value, want)
				}
			}
		}
	}
	checkRange(bee, m, Range{})
	for _, sv := range versions {
		checkRange(bee.Checkout(sv.version), sv.m, Range{})
	}
}

// checkDiff compares Diff between two versions with the models' difference.
func checkDiff(t *testing.T, ctx context.Context, newer, older *Bee, mn, mo model) {
	t.Helper()
	var want []string
	for _, k := range slices.Sorted(maps.Keys(mn)) {
		if v, ok := mo[k]; !ok || v != mn[k] {
			want = append(want, k)
		}
	}
	for k := range mo {
		if _, ok := mn[k]; !ok {
			want = append(want, k)
		}
	}
	slices.Sort(want)
	var got []string
	for d, err := range newer.Diff(ctx, older, Range{}) {
		if err != nil {
			t.Fatal(err)
		}
		var k []byte
		switch {
		case d.Left != nil:
			k = d.Left.Key
			if string(d.Left.Value) != mn[string(k)] {
				t.Fatalf("diff: left %q = %q, want %q", k, d.Left.Value, mn[string(k)])
			}
		case d.Right != nil:
			k = d.Right.Key
		}
		if d.Right != nil && string(d.Right.Value) != mo[string(d.Right.Key)] {
			t.Fatalf("diff: right %q = %q, want %q", d.Right.Key, d.Right.Value, mo[string(d.Right.Key)])
		}
		// A key put again with the same value differs by seq only; the
		// model cannot see it, so such entries are not counted.
		if d.Left != nil && d.Right != nil && bytes.Equal(d.Left.Value, d.Right.Value) {
			continue
		}
		got = append(got, string(k))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("diff %d..%d:\n got %q\nwant %q", older.Version(), newer.Version(), got, want)
	}
}
