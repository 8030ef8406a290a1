package mirrordrive_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
)

var _ mirrordrive.Drive = (*localdrive.Drive)(nil)
var _ mirrordrive.MetadataSupporter = (*localdrive.Drive)(nil)
var _ mirrordrive.Flusher = (*localdrive.Drive)(nil)

// node is one thing in a test tree; a link target "ROOT/x" is made absolute
// inside the tree's root.
type node struct {
	path string
	data []byte
	exec bool
	link string
}

func random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func build(t testing.TB, root string, nodes []node) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(root, filepath.FromSlash(n.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if n.link != "" {
			target := n.link
			if rest, ok := strings.CutPrefix(target, "ROOT/"); ok {
				target = filepath.Join(root, rest)
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := os.FileMode(0o644)
		if n.exec {
			mode = 0o755
		}
		if err := os.WriteFile(p, n.data, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
}

// srcTree and dstTree differ in every way a mirror distinguishes.
func srcTree() []node {
	return []node{
		{path: "same.txt", data: []byte("identical")},
		{path: "empty", data: nil},
		{path: "samesize.txt", data: []byte("aaaa")},
		{path: "grown.txt", data: []byte("longer now")},
		{path: "mode.sh", data: []byte("#!/bin/sh"), exec: true},
		{path: "new/deep/file.txt", data: []byte("new")},
		{path: "links/same", link: "../same.txt"},
		{path: "links/changed", link: "../grown.txt"},
		{path: "links/abs", link: "ROOT/same.txt"},
		{path: "wasfile", link: "same.txt"},
		{path: "ünï/日本.txt", data: []byte("unicode")},
		{path: "big/blob.bin", data: random(2<<20+7, 1)},
		{path: "src/a/one.txt", data: []byte("1")},
		{path: "src/b/two.txt", data: []byte("2")},
		{path: "src/three.txt", data: []byte("3")},
	}
}

func dstTree() []node {
	return []node{
		{path: "same.txt", data: []byte("identical")},
		{path: "empty", data: nil},
		{path: "samesize.txt", data: []byte("bbbb")},
		{path: "grown.txt", data: []byte("short")},
		{path: "mode.sh", data: []byte("#!/bin/sh")},
		{path: "links/same", link: "../same.txt"},
		{path: "links/changed", link: "../same.txt"},
		{path: "wasfile", data: []byte("a file")},
		{path: "extra.txt", data: []byte("to prune")},
		{path: "old/nested/gone.txt", data: []byte("pruned, folders too")},
		{path: "src/b/two.txt", data: []byte("2")},
		{path: "src/stale.txt", data: []byte("stale")},
		{path: "big/blob.bin", data: random(2<<20+7, 2)},
	}
}

// setup builds the source and a destination and returns drives on them.
func setup(t *testing.T, srcOpts, dstOpts *localdrive.Options) (src, dst *localdrive.Drive) {
	t.Helper()
	s, d := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst")
	build(t, s, srcTree())
	build(t, d, dstTree())
	src, _ = localdrive.New(s, srcOpts)
	dst, _ = localdrive.New(d, dstOpts)
	return src, dst
}

// snapshot describes a drive's files for comparison: key, then link name
// or executable bit and content.
func snapshot(t *testing.T, d *localdrive.Drive) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for e, err := range d.List(ctx, "/", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Value.Linkname != "" {
			out = append(out, e.Key+" -> "+e.Value.Linkname)
			continue
		}
		data, err := d.Get(ctx, e.Key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s exec=%v meta=%s %x", e.Key, e.Value.Executable, e.Value.Metadata, data[:min(len(data), 64)]))
	}
	slices.Sort(out)
	return out
}

func TestMirror(t *testing.T) {
	ctx := context.Background()
	src, dst := setup(t, nil, nil)
	var progress []mirrordrive.Change
	res, err := mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{Progress: func(c mirrordrive.Change) {
		progress = append(progress, c)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(progress, res.Changes) {
		t.Errorf("Progress saw %v; Result has %v", progress, res.Changes)
	}
	byKey := map[string]mirrordrive.Change{}
	for _, c := range res.Changes {
		byKey[c.Key] = c
	}
	want := map[string]mirrordrive.Change{
		"/samesize.txt":        {Op: mirrordrive.OpChange, Key: "/samesize.txt", BytesAdded: 4, BytesRemoved: 4},
		"/grown.txt":           {Op: mirrordrive.OpChange, Key: "/grown.txt", BytesAdded: 10, BytesRemoved: 5},
		"/mode.sh":             {Op: mirrordrive.OpChange, Key: "/mode.sh", BytesAdded: 9, BytesRemoved: 9},
		"/new/deep/file.txt":   {Op: mirrordrive.OpAdd, Key: "/new/deep/file.txt", BytesAdded: 3},
		"/links/changed":       {Op: mirrordrive.OpChange, Key: "/links/changed"},
		"/links/abs":           {Op: mirrordrive.OpAdd, Key: "/links/abs"},
		"/wasfile":             {Op: mirrordrive.OpChange, Key: "/wasfile", BytesRemoved: 6},
		"/ünï/日本.txt":          {Op: mirrordrive.OpAdd, Key: "/ünï/日本.txt", BytesAdded: 7},
		"/big/blob.bin":        {Op: mirrordrive.OpChange, Key: "/big/blob.bin", BytesAdded: 2<<20 + 7, BytesRemoved: 2<<20 + 7},
		"/src/a/one.txt":       {Op: mirrordrive.OpAdd, Key: "/src/a/one.txt", BytesAdded: 1},
		"/src/three.txt":       {Op: mirrordrive.OpAdd, Key: "/src/three.txt", BytesAdded: 1},
		"/extra.txt":           {Op: mirrordrive.OpRemove, Key: "/extra.txt", BytesRemoved: 8},
		"/old/nested/gone.txt": {Op: mirrordrive.OpRemove, Key: "/old/nested/gone.txt", BytesRemoved: 19},
		"/src/stale.txt":       {Op: mirrordrive.OpRemove, Key: "/src/stale.txt", BytesRemoved: 5},
	}
	if !reflect.DeepEqual(byKey, want) {
		t.Errorf("changes:\n got %v\nwant %v", byKey, want)
	}
	// Removals come first.
	for i, c := range res.Changes {
		if c.Op == mirrordrive.OpRemove && i >= 3 {
			t.Errorf("remove of %s at position %d; prune runs first", c.Key, i)
		}
	}
	wantCount := mirrordrive.Count{Files: 15, Add: 5, Remove: 3, Change: 6}
	if res.Count != wantCount {
		t.Errorf("Count = %+v; want %+v", res.Count, wantCount)
	}
	var added, removed uint64
	for _, c := range want {
		added += c.BytesAdded
		removed += c.BytesRemoved
	}
	if res.BytesAdded != added || res.BytesRemoved != removed {
		t.Errorf("bytes +%d -%d; want +%d -%d", res.BytesAdded, res.BytesRemoved, added, removed)
	}
	if got, want := snapshot(t, dst), snapshot(t, src); !slices.Equal(got, want) {
		t.Errorf("after the mirror:\n dst %q\n src %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dst.Root(), "old")); !os.IsNotExist(err) {
		t.Errorf("pruned folder /old is still there: %v", err)
	}

	// A second mirror finds nothing to do, and reports equals on request.
	res, err = mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{IncludeEquals: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count != (mirrordrive.Count{Files: 15}) || len(res.Changes) != 15 {
		t.Errorf("second mirror: %+v", res)
	}
	for _, c := range res.Changes {
		if c.Op != mirrordrive.OpEqual {
			t.Errorf("second mirror: %+v", c)
		}
	}
}

func TestMirrorDryRunAndNoPrune(t *testing.T) {
	ctx := context.Background()
	src, dst := setup(t, nil, nil)
	before := snapshot(t, dst)
	dry, err := mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, dst); !slices.Equal(got, before) {
		t.Errorf("a dry run changed the destination")
	}
	if dry.Count.Remove != 3 || dry.Count.Add != 5 {
		t.Errorf("dry run count %+v", dry.Count)
	}
	res, err := mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{NoPrune: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count.Remove != 0 || res.Count.Add != 5 || res.Count.Change != 6 {
		t.Errorf("NoPrune count %+v", res.Count)
	}
	if ok, _ := dst.Exists(ctx, "/extra.txt"); !ok {
		t.Errorf("NoPrune removed /extra.txt")
	}
}

func TestMirrorPrefixFilterIgnore(t *testing.T) {
	ctx := context.Background()
	src, dst := setup(t, nil, nil)
	res, err := mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{
		Prefix:  []string{"/src", "/grown.txt"},
		Filter:  func(key string) bool { return !strings.Contains(key, "three") },
		Ignore:  hyperdrive.IgnorePaths("/src/b"),
		DryRun:  true,
		NoPrune: false,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []mirrordrive.Change{
		{Op: mirrordrive.OpRemove, Key: "/src/stale.txt", BytesRemoved: 5},
		{Op: mirrordrive.OpAdd, Key: "/src/a/one.txt", BytesAdded: 1},
		{Op: mirrordrive.OpChange, Key: "/grown.txt", BytesAdded: 10, BytesRemoved: 5},
	}
	if !reflect.DeepEqual(res.Changes, want) {
		t.Errorf("changes %v; want %v", res.Changes, want)
	}
}

func TestMirrorMetadata(t *testing.T) {
	ctx := context.Background()
	sm, dm := localdrive.NewMetadataMap(), localdrive.NewMetadataMap()
	src, dst := setup(t, &localdrive.Options{Metadata: sm}, &localdrive.Options{Metadata: dm})
	sm.Put(ctx, "/same.txt", []byte(`{"a":1,"b":[true]}`))
	dm.Put(ctx, "/same.txt", []byte(`{"b":[true],"a":1.0}`)) // the same JSON value
	sm.Put(ctx, "/empty", []byte(`0`))
	dm.Put(ctx, "/empty", []byte(`false`)) // both falsy: the same, as JS
	sm.Put(ctx, "/src/b/two.txt", []byte(`"new"`))
	res, err := mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{IncludeEquals: true})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]mirrordrive.Op{}
	for _, c := range res.Changes {
		ops[c.Key] = c.Op
	}
	if ops["/same.txt"] != mirrordrive.OpEqual || ops["/empty"] != mirrordrive.OpEqual || ops["/src/b/two.txt"] != mirrordrive.OpChange {
		t.Errorf("ops %v", ops)
	}
	if m, _ := dm.Get(ctx, "/src/b/two.txt"); string(m) != `"new"` {
		t.Errorf("destination metadata %s", m)
	}
	// Without metadata support on one side, metadata is not compared.
	plain, _ := localdrive.New(dst.Root(), nil)
	sm.Put(ctx, "/same.txt", []byte(`"different"`))
	res, _ = mirrordrive.Mirror(ctx, src, plain, &mirrordrive.Options{DryRun: true})
	for _, c := range res.Changes {
		if c.Key == "/same.txt" {
			t.Errorf("metadata compared against a drive without it: %+v", c)
		}
	}
}

func TestMirrorCanceled(t *testing.T) {
	src, dst := setup(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := mirrordrive.Mirror(ctx, src, dst, nil); err == nil {
		t.Errorf("Mirror with a canceled context succeeded")
	}
}

// entryPutter wraps a localdrive to record PutEntry calls, as a hyperdrive
// destination would take them.
type entryPutter struct {
	*localdrive.Drive
	puts []string
}

func (p *entryPutter) PutEntry(ctx context.Context, key string, v hyperdrive.EntryValue) error {
	p.puts = append(p.puts, key)
	return nil
}

func TestMirrorPutEntry(t *testing.T) {
	ctx := context.Background()
	src, dst := setup(t, nil, nil)
	p := &entryPutter{Drive: dst}
	res, err := mirrordrive.Mirror(ctx, src, p, &mirrordrive.Options{Prefix: []string{"/mode.sh"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []mirrordrive.Change{{Op: mirrordrive.OpChange, Key: "/mode.sh"}}
	if !reflect.DeepEqual(res.Changes, want) || !slices.Equal(p.puts, []string{"/mode.sh"}) {
		t.Errorf("changes %v, puts %v; want %v and a PutEntry", res.Changes, p.puts, want)
	}
}

func Example() {
	ctx := context.Background()
	srcDir, _ := os.MkdirTemp("", "src")
	dstDir, _ := os.MkdirTemp("", "dst")
	defer os.RemoveAll(srcDir)
	defer os.RemoveAll(dstDir)

	src, _ := localdrive.New(srcDir, nil)
	dst, _ := localdrive.New(dstDir, nil)
	src.Put(ctx, "/hello.txt", []byte("hello"), nil)
	src.Put(ctx, "/bin/run.sh", []byte("#!/bin/sh\n"), &hyperdrive.PutOptions{Executable: true})
	dst.Put(ctx, "/stale.txt", []byte("old"), nil)

	res, err := mirrordrive.Mirror(ctx, src, dst, nil)
	if err != nil {
		panic(err)
	}
	for _, c := range res.Changes {
		if c.Op == mirrordrive.OpRemove {
			fmt.Println(c.Op, c.Key, c.BytesRemoved)
		}
	}
	fmt.Printf("%+v +%d -%d\n", res.Count, res.BytesAdded, res.BytesRemoved)
	data, _ := dst.Get(ctx, "/hello.txt")
	fmt.Println(string(data), bytes.Equal(data, []byte("hello")))
	// Output:
	// remove /stale.txt 3
	// {Files:2 Add:2 Remove:1 Change:0} +15 -3
	// hello true
}
