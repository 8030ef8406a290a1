package hyperdrive_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/internal/jsref"
)

// op and query are those of interop/hyperdrive/drive.js.
type op struct {
	T          string          `json:"t"`
	Path       string          `json:"path,omitempty"`
	Size       int             `json:"size,omitempty"`
	Seed       int             `json:"seed,omitempty"`
	Pattern    string          `json:"pattern,omitempty"`
	Chunks     []int           `json:"chunks,omitempty"`
	Executable bool            `json:"executable,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Target     string          `json:"target,omitempty"`
	Ops        []op            `json:"ops,omitempty"`
}

type query struct {
	Q           string  `json:"q"`
	Folder      string  `json:"folder,omitempty"`
	Recursive   *bool   `json:"recursive,omitempty"`
	Path        string  `json:"path,omitempty"`
	Follow      bool    `json:"follow,omitempty"`
	Start       *uint64 `json:"start,omitempty"`
	Length      *uint64 `json:"length,omitempty"`
	End         *uint64 `json:"end,omitempty"`
	Version     uint64  `json:"version,omitempty"`
	DiffVersion uint64  `json:"diffVersion,omitempty"`
}

type step struct {
	Ops     []op    `json:"ops"`
	Queries []query `json:"queries"`
}

func u(v uint64) *uint64 { return &v }

// gen is gen of interop/lib/bytes.js: the content drive.js writes.
func gen(pattern string, seed, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		if pattern == "repeat" {
			b[j] = byte(j/65536%3 + seed)
		} else {
			b[j] = byte(seed*31 + j*7 + j>>9)
		}
	}
	return b
}

const meta = `{"mode":420,"b":[1,2.50,"x<y>&\u2028"],"2":true,"1":null,"z":{"k":-0,"e":1e21,"f":0.000001}}`

// driveSteps build a drive with nested folders, unicode names, links,
// executables, empty and multi-MB files, metadata, deletions and batches.
func driveSteps(oddStreams bool) []step {
	chunks := []int{65536}
	if oddStreams {
		chunks = []int{1000, 70000, 1}
	}
	s1 := []op{
		{T: "put", Path: "/hello.txt", Size: 11, Seed: 1},
		{T: "put", Path: "a/b/c.txt", Size: 100, Seed: 2},
		{T: "put", Path: "/a/b/d/e.bin", Size: 5<<19 + 3, Seed: 3},
		{T: "put", Path: "/ünïcödé/日本/файл.txt", Size: 65536, Seed: 4},
		{T: "put", Path: "/empty", Size: 0},
		{T: "put", Path: "/bin/run.sh", Size: 65537, Seed: 5, Executable: true},
		{T: "put", Path: "/meta.json", Size: 10, Seed: 6, Metadata: json.RawMessage(meta)},
		{T: "symlink", Path: "/links/abs", Target: "/hello.txt"},
		{T: "symlink", Path: "/links/rel", Target: "../../hello.txt", Metadata: json.RawMessage(`{"why":"rel"}`)},
		{T: "symlink", Path: "/links/dir", Target: "/a"},
		{T: "stream", Path: "/streamed.bin", Size: 200000, Seed: 7, Chunks: chunks, Executable: true},
	}
	s2 := []op{
		{T: "del", Path: "/a/b/c.txt"},
		{T: "put", Path: "/hello.txt", Size: 12, Seed: 8},
		{T: "batch", Ops: []op{
			{T: "put", Path: "/batch/x", Size: 3, Seed: 9},
			{T: "symlink", Path: "/batch/y", Target: "x"},
			{T: "del", Path: "/empty"},
		}},
		{T: "del", Path: "/does/not/exist"},
	}
	f := false
	queries := func(v uint64) []query {
		q := []query{
			{Q: "version"},
			{Q: "list", Folder: "/"},
			{Q: "list", Folder: "/a"},
			{Q: "list", Folder: "a/b/"},
			{Q: "list", Folder: "/", Recursive: &f},
			{Q: "list", Folder: "/a", Recursive: &f},
			{Q: "readdir", Folder: "/"},
			{Q: "readdir", Folder: "/a/b"},
			{Q: "readdir", Folder: "/ünïcödé"},
			{Q: "entry", Path: "/hello.txt"},
			{Q: "entry", Path: "/links/rel"},
			{Q: "entry", Path: "/links/rel", Follow: true},
			{Q: "entry", Path: "/links/abs", Follow: true},
			{Q: "entry", Path: "/nope"},
			{Q: "exists", Path: "/empty"},
			{Q: "exists", Path: "/a"},
			{Q: "get", Path: "/hello.txt"},
			{Q: "get", Path: "/empty"},
			{Q: "get", Path: "/links/abs"},
			{Q: "get", Path: "/nope"},
			{Q: "get", Path: "/ünïcödé/日本/файл.txt"},
			{Q: "get", Path: "/streamed.bin"},
			{Q: "read", Path: "/a/b/d/e.bin", Start: u(65530), Length: u(70000)},
			{Q: "read", Path: "/a/b/d/e.bin", Start: u(1 << 20), End: u(2<<20 + 5)},
			{Q: "read", Path: "/streamed.bin", Start: u(999), Length: u(71002)},
			{Q: "read", Path: "/bin/run.sh", Start: u(65536)},
			{Q: "read", Path: "/empty"},
			{Q: "blobsLength"},
		}
		if v > 0 {
			q = append(q,
				query{Q: "list", Folder: "/", Version: v},
				query{Q: "get", Path: "/hello.txt", Version: v},
				query{Q: "diff", DiffVersion: v},
				query{Q: "diff", DiffVersion: v, Folder: "/a"},
				query{Q: "blobsLength", Version: v})
		}
		return q
	}
	return []step{{Ops: s1, Queries: queries(0)}, {Ops: s2, Queries: queries(12)}}
}

// answer answers q on d as drive.js does, in the same JSON shape.
func answer(t *testing.T, d *hyperdrive.Drive, q query) any {
	t.Helper()
	ctx := context.Background()
	if q.Version != 0 {
		d = d.Checkout(q.Version)
	}
	node := func(e *hyperdrive.Entry) any {
		if e == nil {
			return nil
		}
		v, err := hyperdrive.EncodeEntryValue(e.Value)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"key": e.Key, "seq": e.Seq, "value": json.RawMessage(v)}
	}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	switch q.Q {
	case "version":
		return d.Version()
	case "list":
		out := []any{}
		seq := d.List(ctx, q.Folder, nil)
		if q.Recursive != nil && !*q.Recursive {
			seq = d.ListShallow(ctx, q.Folder, nil)
		}
		for e, err := range seq {
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			out = append(out, node(e))
		}
		return out
	case "readdir":
		out := []any{}
		for name, err := range d.Readdir(ctx, q.Folder) {
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			out = append(out, name)
		}
		return out
	case "entry":
		var e *hyperdrive.Entry
		var err error
		if q.Follow {
			e, err = d.EntryFollow(ctx, q.Path)
		} else {
			e, err = d.Entry(ctx, q.Path)
		}
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return node(e)
	case "exists":
		ok, err := d.Exists(ctx, q.Path)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return ok
	case "get":
		b, err := d.Get(ctx, q.Path)
		if errors.Is(err, hyperdrive.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return b64(b)
	case "read":
		o := &hyperdrive.ReadOptions{}
		if q.Start != nil {
			o.Start = *q.Start
		}
		if q.Length != nil {
			o.Length = *q.Length
		} else if q.End != nil {
			o.Length = *q.End - o.Start + 1
		}
		r, err := d.CreateReadStream(ctx, q.Path, o)
		if errors.Is(err, hyperdrive.ErrNotFound) {
			return map[string]any{"error": true} // JS: "Blob does not exist"
		}
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return b64(b)
	case "diff":
		out := []any{}
		for de, err := range d.Diff(ctx, q.DiffVersion, q.Folder) {
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			out = append(out, []any{node(de.Left), node(de.Right)})
		}
		return out
	case "blobsLength":
		n, err := d.BlobsLength(ctx, q.Version)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return n
	}
	t.Fatalf("unknown query %q", q.Q)
	return nil
}

// sameJSON compares a Go answer with a JS one as JSON values.
func sameJSON(t *testing.T, got any, want json.RawMessage) (bool, string) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(g, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &b); err != nil {
		t.Fatal(err)
	}
	// Errors match errors: the messages are JS's own.
	if ae, ok := a.(map[string]any); ok && ae["error"] != nil {
		be, ok := b.(map[string]any)
		return ok && be["error"] != nil, string(g)
	}
	return reflect.DeepEqual(a, b), string(g)
}

func checkAnswers(t *testing.T, what string, d *hyperdrive.Drive, qs []query, js []json.RawMessage) {
	t.Helper()
	if len(js) != len(qs) {
		t.Fatalf("JS answered %d queries, want %d", len(js), len(qs))
	}
	for i, q := range qs {
		got := answer(t, d, q)
		if ok, g := sameJSON(t, got, js[i]); !ok {
			t.Errorf("%s: query %+v:\n Go %.600s\n JS %.600s", what, q, g, js[i])
		}
	}
}

// apply applies ops to d as drive.js does.
func apply(t *testing.T, d *hyperdrive.Drive, ops []op) {
	t.Helper()
	ctx := context.Background()
	for _, o := range ops {
		opts := &hyperdrive.PutOptions{Executable: o.Executable, Metadata: o.Metadata}
		var err error
		switch o.T {
		case "put":
			err = d.Put(ctx, o.Path, gen(o.Pattern, o.Seed, o.Size), opts)
		case "stream":
			var w io.WriteCloser
			if w, err = d.CreateWriteStream(ctx, o.Path, opts); err != nil {
				break
			}
			data := gen(o.Pattern, o.Seed, o.Size)
			for off, k := 0, 0; off < len(data); k++ {
				n := o.Chunks[k%len(o.Chunks)]
				if _, err := w.Write(data[off:min(off+n, len(data))]); err != nil {
					t.Fatal(err)
				}
				off += n
			}
			err = w.Close()
		case "symlink":
			err = d.SymlinkWithMetadata(ctx, o.Path, o.Target, o.Metadata)
		case "del":
			err = d.Del(ctx, o.Path)
		case "batch":
			b := d.Batch()
			for _, bo := range o.Ops {
				switch bo.T {
				case "put":
					err = b.Put(ctx, bo.Path, gen(bo.Pattern, bo.Seed, bo.Size), &hyperdrive.PutOptions{Executable: bo.Executable, Metadata: bo.Metadata})
				case "symlink":
					err = b.Symlink(ctx, bo.Path, bo.Target, bo.Metadata)
				case "del":
					err = b.Del(ctx, bo.Path)
				}
				if err != nil {
					t.Fatalf("batch op %+v: %v", bo, err)
				}
			}
			err = b.Flush(ctx)
		}
		if err != nil {
			t.Fatalf("op %+v: %v", o, err)
		}
	}
}

func memStore(t testing.TB) *hypercore.Store {
	t.Helper()
	s, err := hypercore.OpenStore("", &hypercore.StoreOptions{FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dbKeyPair is the key pair JS's Corestore with primary key 32×seed gives
// the drive's db core.
func dbKeyPair(seed byte) hcrypto.KeyPair {
	var pk [32]byte
	for i := range pk {
		pk[i] = seed
	}
	return corestore.DeriveKeyPair(pk, corestore.Namespace{}, "db")
}

func newDrive(t testing.TB, s *hypercore.Store, kp *hcrypto.KeyPair) *hyperdrive.Drive {
	t.Helper()
	d, err := hyperdrive.New(context.Background(), s, hypercore.Key{}, &hyperdrive.Options{KeyPair: kp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func dumpCore(t *testing.T, c hypercoreLike) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range c.Length() {
		b, err := c.Get(context.Background(), i, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

type hypercoreLike interface {
	Get(ctx context.Context, index uint64, opts *hypercore.GetOptions) ([]byte, error)
	Length() uint64
}

type jsWrite struct {
	Key         string              `json:"key"`
	ContentKey  string              `json:"contentKey"`
	DBBlocks    [][]byte            `json:"dbBlocks"`
	BlobsBlocks [][]byte            `json:"blobsBlocks"`
	Steps       [][]json.RawMessage `json:"steps"`
}

func keyHex(k hypercore.Key) string { return hex.EncodeToString(k[:]) }

func contentKeyHex(t *testing.T, d *hyperdrive.Drive) string {
	k, ok := d.ContentKey()
	if !ok {
		t.Fatal("no content key")
	}
	return keyHex(k)
}

func blobsCore(t *testing.T, d *hyperdrive.Drive) *hypercore.Core {
	t.Helper()
	b, err := d.Blobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b.Core().(*hypercore.Core)
}

// TestInteropSameBlocks: JS and Go make the same drive with the same ops
// and key pair; the db and blobs cores must hold the same blocks, the keys
// agree, and every query answers the same.
func TestInteropSameBlocks(t *testing.T) {
	steps := driveSteps(false)
	var js jsWrite
	jsref.JSON(t, map[string]any{"op": "write", "seed": 7, "steps": steps}, &js, "hyperdrive/drive.js")

	kp := dbKeyPair(7)
	d := newDrive(t, memStore(t), &kp)
	for i, s := range steps {
		apply(t, d, s.Ops)
		checkAnswers(t, fmt.Sprintf("Go drive, step %d", i), d, s.Queries, js.Steps[i])
	}
	if got := keyHex(d.Key()); got != js.Key {
		t.Errorf("drive key: Go %s, JS %s", got, js.Key)
	}
	if got := contentKeyHex(t, d); got != js.ContentKey {
		t.Errorf("content key: Go %s, JS %s", got, js.ContentKey)
	}
	compareBlocks(t, "db", dumpCore(t, d.Core()), js.DBBlocks)
	compareBlocks(t, "blobs", dumpCore(t, blobsCore(t, d)), js.BlobsBlocks)
}

func compareBlocks(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s core: Go %d blocks, JS %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s block %d:\n Go %q\n JS %q", what, i, trunc(got[i]), trunc(want[i]))
		}
	}
}

func trunc(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}

// loadJS returns a Go drive over cores holding JS's blocks, made with the
// key pair of JS's db core.
func loadJS(t *testing.T, seed byte, js *jsWrite) *hyperdrive.Drive {
	t.Helper()
	ctx := context.Background()
	kp := dbKeyPair(seed)
	s := memStore(t)
	db, err := s.Open(ctx, &hypercore.Options{KeyPair: &kp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, js.DBBlocks...); err != nil {
		t.Fatal(err)
	}
	d := newDrive(t, s, &kp)
	db.Close()
	if _, err := blobsCore(t, d).Append(ctx, js.BlobsBlocks...); err != nil {
		t.Fatal(err)
	}
	if got := contentKeyHex(t, d); got != js.ContentKey {
		t.Errorf("content key: Go %s, JS %s", got, js.ContentKey)
	}
	return d
}

// TestInteropReadJS: Go reads a JS drive (with write streams of uneven
// chunks, whose blocks Go would cut differently) from its raw blocks.
func TestInteropReadJS(t *testing.T) {
	steps := driveSteps(true)
	var js jsWrite
	jsref.JSON(t, map[string]any{"op": "write", "seed": 9, "steps": steps}, &js, "hyperdrive/drive.js")
	d := loadJS(t, 9, &js)
	// Only the last step's queries see the final state; the first step's
	// are asked of the checkout of that step's version.
	last := steps[len(steps)-1]
	checkAnswers(t, "Go on JS's blocks", d, last.Queries, js.Steps[len(steps)-1])
	var v1 uint64
	if err := json.Unmarshal(js.Steps[0][0], &v1); err != nil {
		t.Fatal(err)
	}
	for i, q := range steps[0].Queries {
		if q.Q == "blobsLength" || q.Q == "version" {
			continue
		}
		q.Version = v1
		if ok, g := sameJSON(t, answer(t, d, q), js.Steps[0][i]); !ok {
			t.Errorf("checkout %d: query %+v:\n Go %.600s\n JS %.600s", v1, q, g, js.Steps[0][i])
		}
	}
}

// TestInteropJSReadsGo: a Go drive (uneven write streams included) is
// loaded by JS from its raw blocks and read; JS must answer as Go does.
func TestInteropJSReadsGo(t *testing.T) {
	steps := driveSteps(true)
	kp := hcrypto.KeyPairFromSeed([32]byte{1, 2, 3})
	d := newDrive(t, memStore(t), &kp)
	var queries []query
	var want []any
	for _, s := range steps {
		apply(t, d, s.Ops)
	}
	for _, q := range steps[len(steps)-1].Queries {
		queries = append(queries, q)
		want = append(want, answer(t, d, q))
	}
	var js struct {
		Key        string            `json:"key"`
		ContentKey string            `json:"contentKey"`
		Answers    []json.RawMessage `json:"answers"`
	}
	jsref.JSON(t, map[string]any{
		"op":          "read",
		"secretKey":   hex.EncodeToString(kp.SecretKey[:]),
		"dbBlocks":    dumpCore(t, d.Core()),
		"blobsBlocks": dumpCore(t, blobsCore(t, d)),
		"queries":     queries,
	}, &js, "hyperdrive/drive.js")
	if js.Key != keyHex(d.Key()) || js.ContentKey != contentKeyHex(t, d) {
		t.Errorf("JS opened keys %s / %s, Go's are %s / %s", js.Key, js.ContentKey, keyHex(d.Key()), contentKeyHex(t, d))
	}
	for i, q := range queries {
		if ok, g := sameJSON(t, want[i], js.Answers[i]); !ok {
			t.Errorf("query %+v:\n Go %.600s\n JS %.600s", q, g, js.Answers[i])
		}
	}
}
