package hyperbee

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/internal/jsref"
)

func keysOf(t *testing.T, seq func(func(Entry, error) bool)) []string {
	t.Helper()
	var out []string
	for e, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(e.Key))
	}
	return out
}

func mustPut(t *testing.T, b *Bee, k, v string) {
	t.Helper()
	if err := b.Put(context.Background(), []byte(k), []byte(v)); err != nil {
		t.Fatal(err)
	}
}

func TestPutGetDel(t *testing.T) {
	ctx := context.Background()
	core := newMemCore()
	bee := New(core, nil)
	if got := bee.Version(); got != 1 {
		t.Errorf("empty bee version %d, want 1", got)
	}
	if _, err := bee.Get(ctx, []byte("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("get on empty bee: %v, want ErrNotFound", err)
	}
	if core.Length() != 0 {
		t.Errorf("a read appended %d blocks", core.Length())
	}
	mustPut(t, bee, "a", "1")
	if got := core.Length(); got != 2 {
		t.Fatalf("after one put: length %d, want 2 (header and block)", got)
	}
	h, err := bee.GetHeader(ctx)
	if err != nil || h.Protocol != "hyperbee" || h.Metadata != nil {
		t.Fatalf("header %+v, %v", h, err)
	}
	e, err := bee.Get(ctx, []byte("a"))
	if err != nil || e.Seq != 1 || string(e.Value) != "1" {
		t.Fatalf("get a: %+v, %v", e, err)
	}
	// The empty key and the empty value are values like any other.
	mustPut(t, bee, "", "")
	e, err = bee.Get(ctx, []byte{})
	if err != nil || e.Value == nil || len(e.Value) != 0 {
		t.Fatalf("get empty key: %+v, %v", e, err)
	}
	if err := bee.Del(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := bee.Get(ctx, []byte("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("get deleted key: %v", err)
	}
	// Deleting a missing key appends nothing.
	before := core.Length()
	if err := bee.Del(ctx, []byte("zz")); err != nil || core.Length() != before {
		t.Errorf("del of a missing key: %v, length %d -> %d", err, before, core.Length())
	}
	e, err = bee.GetBySeq(ctx, 3)
	if err != nil || string(e.Key) != "a" || e.Value != nil {
		t.Errorf("GetBySeq(3) = %+v, %v; want the deletion of a", e, err)
	}
	if _, err := bee.GetBySeq(ctx, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetBySeq(0): %v", err)
	}
	if ok, err := IsHyperbee(ctx, core); !ok || err != nil {
		t.Errorf("IsHyperbee = %v, %v", ok, err)
	}
	if ok, _ := IsHyperbee(ctx, newMemCore([]byte("nope"))); ok {
		t.Error("IsHyperbee of a non-bee core is true")
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	bee := New(newMemCore(), &Options{ReadOnly: true})
	if err := bee.Put(ctx, []byte("a"), nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("put on read-only bee: %v", err)
	}
	w := New(newMemCore(), nil)
	mustPut(t, w, "a", "1")
	if err := w.Snapshot().Put(ctx, []byte("b"), nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("put on a snapshot: %v", err)
	}
	if err := w.Checkout(2).Batch().Put(ctx, []byte("b"), nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("batch put on a checkout: %v", err)
	}
}

func TestCheckoutAndSnapshot(t *testing.T) {
	ctx := context.Background()
	bee := New(newMemCore(), nil)
	mustPut(t, bee, "a", "1")
	snap := bee.Snapshot()
	mustPut(t, bee, "a", "2")
	mustPut(t, bee, "b", "3")
	if e, _ := snap.Get(ctx, []byte("a")); string(e.Value) != "1" {
		t.Errorf("snapshot sees a = %q, want 1", e.Value)
	}
	if got := keysOf(t, snap.Range(ctx, Range{})); !slices.Equal(got, []string{"a"}) {
		t.Errorf("snapshot range %q", got)
	}
	if got := bee.Checkout(0).Version(); got != 1 {
		t.Errorf("Checkout(0).Version() = %d, want 1", got)
	}
	if got := keysOf(t, bee.Checkout(1).Range(ctx, Range{})); len(got) != 0 {
		t.Errorf("checkout 1 range %q", got)
	}
	if e, _ := bee.Checkout(3).Get(ctx, []byte("a")); string(e.Value) != "2" || e.Seq != 2 {
		t.Errorf("checkout 3 get a = %+v", e)
	}
}

func TestSub(t *testing.T) {
	ctx := context.Background()
	core := newMemCore()
	bee := New(core, nil)
	a := bee.Sub([]byte("a"))
	ab := a.Sub([]byte("b"))
	mustPut(t, bee, "a", "root a")
	mustPut(t, bee, "b", "root b")
	mustPut(t, a, "x", "a x")
	mustPut(t, a, "y", "a y")
	mustPut(t, ab, "z", "ab z")
	mustPut(t, bee.SubSep([]byte("c"), []byte("/")), "w", "c w")

	if got := keysOf(t, bee.Range(ctx, Range{})); !slices.Equal(got, []string{"a", "a\x00b\x00z", "a\x00x", "a\x00y", "b", "c/w"}) {
		t.Errorf("stored keys %q", got)
	}
	// The sub's range covers its keys, and (as in JS) the keys of its subs.
	if got := keysOf(t, a.Range(ctx, Range{})); !slices.Equal(got, []string{"b\x00z", "x", "y"}) {
		t.Errorf("sub a range %q", got)
	}
	if got := keysOf(t, a.Range(ctx, Range{Gt: []byte("x"), Reverse: true})); !slices.Equal(got, []string{"y"}) {
		t.Errorf("sub a range gt x %q", got)
	}
	if got := keysOf(t, ab.Range(ctx, Range{})); !slices.Equal(got, []string{"z"}) {
		t.Errorf("sub a/b range %q", got)
	}
	if e, err := a.Get(ctx, []byte("x")); err != nil || string(e.Key) != "x" || string(e.Value) != "a x" {
		t.Errorf("sub get %+v, %v", e, err)
	}
	if _, err := a.Get(ctx, []byte("a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("sub get of a root key: %v", err)
	}
	if err := a.Del(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := keysOf(t, a.Checkout(a.Version()).Range(ctx, Range{})); !slices.Equal(got, []string{"b\x00z", "y"}) {
		t.Errorf("checkout of sub a %q", got)
	}
	var hist []string
	for e, err := range a.History(ctx, HistoryOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		hist = append(hist, string(e.Key))
	}
	if !slices.Equal(hist, []string{"a", "b", "x", "y", "b\x00z", "c/w", "x"}) {
		t.Errorf("sub history %q", hist)
	}
}

func TestCAS(t *testing.T) {
	ctx := context.Background()
	bee := New(newMemCore(), nil)
	never := func(prev, next Entry) bool { return false }
	var calls []string
	record := func(prev, next Entry) bool {
		calls = append(calls, fmt.Sprintf("%s:%d:%s->%d:%s", prev.Key, prev.Seq, prev.Value, next.Seq, next.Value))
		return true
	}
	if ok, err := bee.PutCAS(ctx, []byte("a"), []byte("1"), never); !ok || err != nil {
		t.Fatalf("cas put of a new key: %v, %v (cas is not asked about new keys)", ok, err)
	}
	if ok, err := bee.PutCAS(ctx, []byte("a"), []byte("2"), never); ok || err != nil {
		t.Fatalf("declined cas put: %v, %v", ok, err)
	}
	if ok, err := bee.PutCAS(ctx, []byte("a"), []byte("3"), record); !ok || err != nil {
		t.Fatalf("accepted cas put: %v, %v", ok, err)
	}
	if ok, err := bee.DelCAS(ctx, []byte("a"), never); ok || err != nil {
		t.Fatalf("declined cas del: %v, %v", ok, err)
	}
	if ok, err := bee.DelCAS(ctx, []byte("a"), record); !ok || err != nil {
		t.Fatalf("accepted cas del: %v, %v", ok, err)
	}
	if want := []string{"a:1:1->2:3", "a:2:3->3:"}; !slices.Equal(calls, want) {
		t.Errorf("cas calls %q, want %q", calls, want)
	}
	if got := bee.Version(); got != 4 {
		t.Errorf("version %d, want 4", got)
	}
}

func TestSkipUnchanged(t *testing.T) {
	bee := New(newMemCore(), &Options{SkipUnchanged: true})
	mustPut(t, bee, "a", "1")
	mustPut(t, bee, "a", "1")
	if got := bee.Version(); got != 2 {
		t.Errorf("version %d after an unchanged put, want 2", got)
	}
	mustPut(t, bee, "a", "2")
	if got := bee.Version(); got != 3 {
		t.Errorf("version %d after a changed put, want 3", got)
	}
}

func TestBatch(t *testing.T) {
	ctx := context.Background()
	core := newMemCore()
	bee := New(core, nil)
	mustPut(t, bee, "0", "zero")
	appends := core.appends

	bt := bee.Batch()
	for i := range 20 {
		if err := bt.Put(ctx, fmt.Appendf(nil, "k%02d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Del(ctx, []byte("0")); err != nil {
		t.Fatal(err)
	}
	if _, err := bt.Get(ctx, []byte("0")); !errors.Is(err, ErrNotFound) {
		t.Errorf("batch sees deleted key: %v", err)
	}
	if e, err := bt.Get(ctx, []byte("k07")); err != nil || e.Seq != 9 {
		t.Errorf("batch get k07 = %+v, %v", e, err)
	}
	if got := keysOf(t, bt.Range(ctx, Range{Limit: 3})); !slices.Equal(got, []string{"k00", "k01", "k02"}) {
		t.Errorf("batch range %q", got)
	}
	if bt.Len() != 21 || bt.Version() != 23 {
		t.Errorf("batch len %d version %d", bt.Len(), bt.Version())
	}
	// Nothing is visible outside the batch before Flush, and other
	// writers wait for it.
	if _, err := bee.Get(ctx, []byte("k00")); !errors.Is(err, ErrNotFound) {
		t.Errorf("bee sees pending write: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := bee.Put(short, []byte("x"), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("put during a batch: %v, want it to wait", err)
	}
	if err := bt.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if core.appends != appends+1 || core.Length() != 23 {
		t.Errorf("flush made %d appends, length %d", core.appends-appends, core.Length())
	}
	mustPut(t, bee, "x", "after")
	// A batch is usable again after Flush, and Close discards.
	if err := bt.Put(ctx, []byte("y"), nil); err != nil {
		t.Fatal(err)
	}
	if err := bt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bt.Put(ctx, []byte("y"), nil); !errors.Is(err, ErrBatchDone) {
		t.Errorf("put after Close: %v", err)
	}
	mustPut(t, bee, "z", "lock released")
	if _, err := bee.Get(ctx, []byte("y")); !errors.Is(err, ErrNotFound) {
		t.Errorf("closed batch's write is visible: %v", err)
	}
	// Flushing an empty batch appends nothing.
	before := core.appends
	if err := bee.Batch().Flush(ctx); err != nil || core.appends != before {
		t.Errorf("empty flush: %v, %d appends", err, core.appends-before)
	}
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	bee := New(newMemCore(), nil)
	for i := range 10 {
		mustPut(t, bee, fmt.Sprint(i), "v")
	}
	if err := bee.Del(ctx, []byte("3")); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	var dels int
	for e, err := range bee.History(ctx, HistoryOptions{Gte: 3, Lt: -2, Reverse: true}) {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, e.Seq)
		if e.Del {
			dels++
		}
	}
	if want := []uint64{9, 8, 7, 6, 5, 4, 3}; !slices.Equal(seqs, want) || dels != 0 {
		t.Errorf("history seqs %v (dels %d), want %v", seqs, dels, want)
	}
	last, _ := bee.Peek(ctx, Range{Reverse: true})
	if string(last.Key) != "9" {
		t.Errorf("peek reverse = %q", last.Key)
	}
}

func TestHistoryLive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bee := New(newMemCore(), nil)
	mustPut(t, bee, "a", "1")
	got := make(chan HistoryEntry)
	go func() {
		for e, err := range bee.History(ctx, HistoryOptions{Live: true}) {
			if err != nil {
				return
			}
			got <- e
		}
	}()
	for _, want := range []string{"a", "b", "c"} {
		if want != "a" {
			mustPut(t, bee, want, "later")
		}
		select {
		case e := <-got:
			if string(e.Key) != want {
				t.Fatalf("live history gave %q, want %q", e.Key, want)
			}
		case <-ctx.Done():
			t.Fatalf("live history did not deliver %q", want)
		}
	}
}

func TestWatch(t *testing.T) {
	bee := New(newMemCore(), nil)
	w, err := bee.Watch(Range{Gte: []byte("m")})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	next := func() (WatchUpdate, bool) {
		select {
		case u, ok := <-w.Updates():
			return u, ok
		case <-time.After(300 * time.Millisecond):
			return WatchUpdate{}, false
		}
	}
	mustPut(t, bee, "a", "outside")
	if u, ok := next(); ok {
		t.Fatalf("update for a change outside the range: %d -> %d", u.Previous.Version(), u.Current.Version())
	}
	mustPut(t, bee, "n", "inside")
	u, ok := next()
	if !ok {
		t.Fatal("no update for a change in the range")
	}
	if u.Current.Version() != 3 || u.Previous.Version() != 2 {
		t.Errorf("update %d -> %d, want 2 -> 3", u.Previous.Version(), u.Current.Version())
	}
	// Updates the consumer has not taken merge into one.
	mustPut(t, bee, "o", "1")
	time.Sleep(100 * time.Millisecond)
	mustPut(t, bee, "p", "2")
	time.Sleep(100 * time.Millisecond)
	u, ok = next()
	if !ok || u.Previous.Version() != 3 || u.Current.Version() != 5 {
		t.Errorf("merged update %v: %d -> %d, want 3 -> 5", ok, u.Previous.Version(), u.Current.Version())
	}
	w.Close()
	if _, ok := <-w.Updates(); ok {
		t.Error("Updates still open after Close")
	}
	if _, err := bee.Snapshot().Watch(Range{}); err == nil {
		t.Error("watching a snapshot succeeded")
	}
}

// TestHypercore runs a bee on a real hypercore.Core, which satisfies Core
// as it is.
func TestHypercore(t *testing.T) {
	ctx := context.Background()
	var seed [32]byte
	seed[0] = 1
	kp := hcrypto.KeyPairFromSeed(seed)
	core, err := hypercore.Open(t.TempDir(), &hypercore.Options{KeyPair: &kp, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	bee := New(core, &Options{Metadata: &Metadata{UserData: []byte("u")}})
	w, err := bee.Watch(Range{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	bt := bee.Batch()
	for i := range 100 {
		if err := bt.Put(ctx, fmt.Appendf(nil, "%03d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := bt.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if core.Length() != 101 {
		t.Fatalf("core length %d", core.Length())
	}
	// A second bee on the core reads it from storage, not from the cache.
	other := New(core, nil)
	if got := keysOf(t, other.Range(ctx, Range{Gte: []byte("095")})); !slices.Equal(got, []string{"095", "096", "097", "098", "099"}) {
		t.Errorf("range %q", got)
	}
	if h, err := other.GetHeader(ctx); err != nil || string(h.Metadata.UserData) != "u" {
		t.Errorf("header %+v, %v", h, err)
	}
	select {
	case u := <-w.Updates():
		if u.Current.Version() < 2 {
			t.Errorf("update to version %d", u.Current.Version())
		}
	case <-time.After(5 * time.Second):
		t.Error("no watch update")
	}
}

// TestInteropHeaderMetadata checks the header JS writes with metadata.
func TestInteropHeaderMetadata(t *testing.T) {
	jsref.Require(t)
	ctx := context.Background()
	p := jsref.Start(t, "hyperbee/bee.js")
	defer p.CloseStdin()
	feed := bytes.Repeat([]byte{0xab}, 32)
	for _, md := range []*Metadata{{ContentFeed: feed}, {ContentFeed: feed, UserData: []byte("hi")}} {
		core := newMemCore()
		bee := New(core, &Options{Metadata: md})
		mustPut(t, bee, "k", "v")
		var js jsRunResult
		req := map[string]any{"contentFeed": hex.EncodeToString(md.ContentFeed)}
		if md.UserData != nil {
			req["userData"] = hex.EncodeToString(md.UserData)
		}
		p.Send(map[string]any{"op": "run", "metadata": req, "ops": []jsOp{{T: "put", K: "6b", V: "76"}}, "queries": []map[string]any{{"q": "header"}}})
		p.Recv(&js)
		if js.Error != "" {
			t.Fatal(js.Error)
		}
		for i, b := range core.raw() {
			if hex.EncodeToString(b) != js.Blocks[i] {
				t.Errorf("block %d: go %x, js %s", i, b, js.Blocks[i])
			}
		}
		got, err := goQuery(t, ctx, New(newMemCore(unhex(t, js.Blocks[0])), nil), map[string]any{"q": "header"})
		if err != nil {
			t.Fatal(err)
		}
		compareJSON(t, got, js.Results[0])
	}
}

func compareJSON(t *testing.T, got any, want []byte) {
	t.Helper()
	g, _ := jsonMarshal(got)
	var a, b any
	jsonUnmarshal(g, &a)
	jsonUnmarshal(want, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("got %s, want %s", g, want)
	}
}
