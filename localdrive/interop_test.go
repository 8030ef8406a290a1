package localdrive_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/localdrive"
)

// node is one thing in a test tree. A link target starting with "ROOT/" or
// "OUT/" is made absolute in the root or in a folder outside it.
type node struct {
	path string
	data []byte
	exec bool
	link string
	dir  bool
}

func random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// testTree has nested and empty folders, unicode names, links of every
// kind, executables, empty and multi-megabyte files, and a folder big
// enough for the file system to index it.
func testTree() []node {
	nodes := []node{
		{path: "README.md", data: []byte("# hello\n")},
		{path: "empty.txt"},
		{path: "bin/run.sh", data: []byte("#!/bin/sh\necho hi\n"), exec: true},
		{path: "bin/tool", data: random(1000, 1), exec: true},
		{path: "src/a/b/c/deep.txt", data: []byte("deep")},
		{path: "src/a/b/side.txt", data: []byte("side")},
		{path: "src/main.go", data: []byte("package main\n")},
		{path: "ünïcödé/日本語.txt", data: []byte("こんにちは")},
		{path: "ünïcödé/файл с пробелом.md", data: []byte("пробел")},
		{path: "ünïcödé/emoji 🎉.txt", data: []byte("🎉")},
		{path: "big/blob.bin", data: random(3<<20+123, 2)},
		{path: "big/exact64k.bin", data: random(65536, 3)},
		{path: "links/rel", link: "../README.md"},
		{path: "links/abs", link: "ROOT/src/main.go"},
		{path: "links/outside", link: "OUT/outside.txt"},
		{path: "links/outdir", link: "OUT"},
		{path: "links/dangling", link: "nowhere/at/all"},
		{path: "links/dirlink", link: "../src/a"},
		{path: "emptydir", dir: true},
		{path: "emptynested/x/y", dir: true},
	}
	for i := range 60 {
		nodes = append(nodes, node{path: fmt.Sprintf("many/file-%02d.dat", i), data: random(i*37, uint64(i))})
	}
	return nodes
}

// build makes nodes under root; outside is the folder "OUT/" stands for.
func build(t testing.TB, root, outside string, nodes []node) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(root, filepath.FromSlash(n.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case n.dir:
			err := os.MkdirAll(p, 0o755)
			if err != nil {
				t.Fatal(err)
			}
		case n.link != "":
			target := n.link
			if rest, ok := strings.CutPrefix(target, "ROOT/"); ok {
				target = filepath.Join(root, rest)
			} else if rest, ok := strings.CutPrefix(target, "OUT"); ok {
				target = outside + rest
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		default:
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
}

// jsEntry is an entry as the script prints it.
type jsEntry struct {
	Key   string                `json:"key"`
	Value hyperdrive.EntryValue `json:"value"`
	Mtime float64               `json:"mtime"`
}

type jsAnswer struct {
	Entries  []json.RawMessage `json:"entries"`
	Follows  []json.RawMessage `json:"follows"`
	Lists    []json.RawMessage `json:"lists"`
	Readdirs []json.RawMessage `json:"readdirs"`
	Reads    []json.RawMessage `json:"reads"`
}

func TestInteropEntriesAndLists(t *testing.T) {
	jsref.Require(t)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "outside.txt"), []byte("from outside"), 0o755)
	os.WriteFile(filepath.Join(outside, "other.txt"), []byte("other"), 0o644)
	root := filepath.Join(t.TempDir(), "drive")
	nodes := testTree()
	build(t, root, outside, nodes)

	var entryKeys []string
	for _, n := range nodes {
		entryKeys = append(entryKeys, "/"+n.path)
	}
	entryKeys = append(entryKeys, "/missing", "/src", "/", "src/a/../main.go", "/links/outdir/other.txt", "/links/dirlink/b/side.txt")
	type list struct {
		Folder string   `json:"folder"`
		Ignore []string `json:"ignore"`
	}
	lists := []list{{Folder: "/"}, {Folder: "/src"}, {Folder: "src/a/"}, {Folder: "/missing"}, {Folder: "/README.md"},
		{Folder: "/links"}, {Folder: "/", Ignore: []string{"/big", "/src/a/b", "/many/file-07.dat", "links"}}}
	readdirs := []string{"/", "/src", "/links", "/emptynested", "/ünïcödé", "/missing", "/many"}
	type read struct {
		Key    string `json:"key"`
		Start  uint64 `json:"start"`
		Length uint64 `json:"length"`
	}
	reads := []read{{Key: "/README.md"}, {Key: "/README.md", Start: 2, Length: 3}, {Key: "/big/exact64k.bin", Start: 65530},
		{Key: "/big/blob.bin", Start: 1 << 20, Length: 100}, {Key: "/README.md", Start: 100}, {Key: "/links/rel"}}

	metadata := map[string]json.RawMessage{
		"/README.md":  json.RawMessage(`{"author":"me","tags":[1,2,{"x":null}]}`),
		"/bin/run.sh": json.RawMessage(`"text"`),
		"/empty.txt":  json.RawMessage(`0`),
	}

	for _, tc := range []struct {
		name     string
		opts     map[string]bool
		metadata bool
	}{
		{"default", nil, false},
		{"followLinks", map[string]bool{"followLinks": true}, false},
		{"followExternalLinks", map[string]bool{"followExternalLinks": true}, false},
		{"metadata", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			req := map[string]any{"root": root, "options": tc.opts, "entries": entryKeys, "follows": entryKeys,
				"lists": lists, "readdirs": readdirs, "reads": reads}
			opts := &localdrive.Options{FollowLinks: tc.opts["followLinks"], FollowExternalLinks: tc.opts["followExternalLinks"]}
			if tc.metadata {
				req["metadata"] = metadata
				m := localdrive.NewMetadataMap()
				for k, v := range metadata {
					m.Put(ctx, k, v)
				}
				opts.Metadata = m
			}
			var js jsAnswer
			jsref.JSON(t, req, &js, "localdrive/drive.js")
			d, err := localdrive.New(root, opts)
			if err != nil {
				t.Fatal(err)
			}

			for i, key := range entryKeys {
				e, err := d.Entry(ctx, key)
				compareEntry(t, fmt.Sprintf("Entry(%q)", key), e, err, js.Entries[i])
				e, err = d.Resolve(ctx, key)
				compareEntry(t, fmt.Sprintf("Resolve(%q)", key), e, err, js.Follows[i])
			}
			for i, l := range lists {
				var o *hyperdrive.ListOptions
				if l.Ignore != nil {
					o = &hyperdrive.ListOptions{Ignore: hyperdrive.IgnorePaths(l.Ignore...)}
				}
				var want []json.RawMessage
				if err := json.Unmarshal(js.Lists[i], &want); err != nil {
					t.Fatalf("List(%q): JS: %s", l.Folder, js.Lists[i])
				}
				var got []*hyperdrive.Entry
				for e, err := range d.List(ctx, l.Folder, o) {
					if err != nil {
						t.Fatalf("List(%q): %v", l.Folder, err)
					}
					got = append(got, e)
				}
				if i == 0 && len(got) < 75 {
					t.Errorf("List(/) has only %d entries", len(got))
				}
				if len(got) != len(want) {
					t.Errorf("List(%q, %v): %d entries, JS lists %d", l.Folder, l.Ignore, len(got), len(want))
				}
				for j := range min(len(got), len(want)) {
					compareEntry(t, fmt.Sprintf("List(%q, %v)[%d]", l.Folder, l.Ignore, j), got[j], nil, want[j])
				}
			}
			for i, folder := range readdirs {
				var want, got []string
				json.Unmarshal(js.Readdirs[i], &want)
				for name, err := range d.Readdir(ctx, folder) {
					if err != nil {
						t.Fatalf("Readdir(%q): %v", folder, err)
					}
					got = append(got, name)
				}
				if !slices.Equal(got, want) {
					t.Errorf("Readdir(%q) = %q; JS %q", folder, got, want)
				}
			}
			for i, r := range reads {
				var want string
				json.Unmarshal(js.Reads[i], &want)
				rs, err := d.CreateReadStream(ctx, r.Key, &hyperdrive.ReadOptions{Start: r.Start, Length: r.Length})
				if err != nil {
					t.Errorf("CreateReadStream(%+v): %v", r, err)
					continue
				}
				var b strings.Builder
				buf := make([]byte, 1<<16)
				for {
					n, err := rs.Read(buf)
					b.Write(buf[:n])
					if err != nil {
						break
					}
				}
				rs.Close()
				if got := hex.EncodeToString([]byte(b.String())); got != want {
					t.Errorf("CreateReadStream(%+v) read %d bytes; JS %d", r, len(got)/2, len(want)/2)
				}
			}
		})
	}
}

// compareEntry compares a Go entry with what JS printed (an entry, null, or
// {error}).
func compareEntry(t *testing.T, what string, got *hyperdrive.Entry, err error, js json.RawMessage) {
	t.Helper()
	if strings.HasPrefix(string(js), `{"error"`) {
		if err == nil {
			t.Errorf("%s = %+v; JS fails: %s", what, got, js)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v; JS gives %s", what, err, js)
		return
	}
	if string(js) == "null" {
		if got != nil {
			t.Errorf("%s = %+v; JS gives null", what, got)
		}
		return
	}
	var want jsEntry
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatalf("%s: JS printed %s: %v", what, js, err)
	}
	if got == nil {
		t.Errorf("%s = nil; JS gives %s", what, js)
		return
	}
	gv, wv := got.Value, want.Value
	if got.Key != want.Key || gv.Executable != wv.Executable || gv.Linkname != wv.Linkname ||
		!reflect.DeepEqual(gv.Blob, wv.Blob) || !sameJSON(gv.Metadata, wv.Metadata) {
		gb, _ := json.Marshal(gv)
		t.Errorf("%s = %s %s; JS gives %s", what, got.Key, gb, js)
	}
	if ms := float64(got.Mtime.UnixNano()) / 1e6; math.Abs(ms-want.Mtime) > 0.001 {
		t.Errorf("%s: mtime %f ms; JS %f", what, ms, want.Mtime)
	}
}

func sameJSON(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// TestInteropWrites applies the same puts, links and deletions with JS
// localdrive and with Drive, in two folders, and compares the folders.
func TestInteropWrites(t *testing.T) {
	jsref.Require(t)
	type op struct {
		Op         string `json:"op"`
		Key        string `json:"key"`
		Hex        string `json:"hex,omitempty"`
		Executable bool   `json:"executable,omitempty"`
		Linkname   string `json:"linkname,omitempty"`
	}
	ops := []op{
		{Op: "put", Key: "/a.txt", Hex: hex.EncodeToString([]byte("a"))},
		{Op: "put", Key: "bin/run", Hex: "2321", Executable: true},
		{Op: "put", Key: "/bin/run", Hex: "2322"}, // rewritten, no longer executable
		{Op: "put", Key: "/x/y/z/deep", Hex: "00ff", Executable: true},
		{Op: "put", Key: `/win\style\ünï 日本`, Hex: ""},
		{Op: "put", Key: "/big", Hex: hex.EncodeToString(random(200000, 9))},
		{Op: "symlink", Key: "/links/abs", Linkname: "/a.txt"},
		{Op: "symlink", Key: "/links/rel", Linkname: "../a.txt"},
		{Op: "symlink", Key: "/a.txt", Linkname: "/big"}, // replaces a file
		{Op: "put", Key: "/gone/deep/f", Hex: "01"},
		{Op: "del", Key: "/gone/deep/f"},
		{Op: "del", Key: "/never/was"},
	}
	jsDir, goDir := filepath.Join(t.TempDir(), "js"), filepath.Join(t.TempDir(), "go")
	var js jsAnswer
	jsref.JSON(t, map[string]any{"root": jsDir, "ops": ops}, &js, "localdrive/drive.js")

	ctx := context.Background()
	d, _ := localdrive.New(goDir, nil)
	for _, o := range ops {
		var err error
		switch o.Op {
		case "put":
			data, _ := hex.DecodeString(o.Hex)
			err = d.Put(ctx, o.Key, data, &hyperdrive.PutOptions{Executable: o.Executable})
		case "symlink":
			err = d.Symlink(ctx, o.Key, o.Linkname)
		case "del":
			err = d.Del(ctx, o.Key)
		}
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
	}
	got, want := describe(t, goDir), describe(t, jsDir)
	if len(want) < 10 {
		t.Errorf("JS made only %q", want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("folders differ:\n Go %q\n JS %q", got, want)
	}
}

// describe lists everything in a folder: path, mode, and content or link
// target (with the folder's own path replaced by ROOT).
func describe(t *testing.T, root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		info, _ := de.Info()
		line := fmt.Sprintf("%s %v", rel, info.Mode())
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			line += " -> " + strings.Replace(l, root, "ROOT", 1)
		case info.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %d %x", len(b), b[:min(len(b), 16)])
		}
		out = append(out, line)
		return nil
	})
	return out
}
