package hyperdrive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/mirrordrive"
)

var (
	_ mirrordrive.Drive             = (*hyperdrive.Drive)(nil)
	_ mirrordrive.MetadataSupporter = (*hyperdrive.Drive)(nil)
	_ mirrordrive.EntryPutter       = (*hyperdrive.Drive)(nil)
	_ mirrordrive.BlobSizer         = (*hyperdrive.Drive)(nil)
)

// sampleDrive returns a writable drive with a small tree.
func sampleDrive(t testing.TB) *hyperdrive.Drive {
	t.Helper()
	ctx := context.Background()
	d := newDrive(t, memStore(t), nil)
	files := map[string]string{
		"/README.md":           "# hello\n",
		"/docs/guide/intro.md": strings.Repeat("intro ", 20000),
		"/docs/日本.txt":         "こんにちは",
		"/bin/tool":            "#!/bin/sh\necho hi\n",
		"/empty":               "",
	}
	for p, c := range files {
		if err := d.Put(ctx, p, []byte(c), &hyperdrive.PutOptions{Executable: p == "/bin/tool"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Symlink(ctx, "/docs/link", "/README.md"); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDriveBasics(t *testing.T) {
	ctx := context.Background()
	d := sampleDrive(t)
	if got, err := d.Get(ctx, "docs/日本.txt"); string(got) != "こんにちは" || err != nil {
		t.Errorf("Get = %q, %v", got, err)
	}
	if _, err := d.Get(ctx, "/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of a missing file: %v, want fs.ErrNotExist", err)
	}
	e, err := d.EntryFollow(ctx, "/docs/link")
	if err != nil || e == nil || e.Key != "/README.md" {
		t.Errorf("EntryFollow = %+v, %v", e, err)
	}
	var names []string
	for n, err := range d.Readdir(ctx, "/") {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if got := strings.Join(names, ","); got != "README.md,bin,docs,empty" {
		t.Errorf("Readdir(/) = %s", got)
	}
	v := d.Version()
	if err := d.Del(ctx, "/README.md"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := d.Exists(ctx, "/README.md"); ok {
		t.Error("deleted file still exists")
	}
	old := d.Checkout(v)
	if got, err := old.Get(ctx, "/README.md"); string(got) != "# hello\n" || err != nil {
		t.Errorf("checkout Get = %q, %v", got, err)
	}
	if err := old.Put(ctx, "/x", nil, nil); !errors.Is(err, hyperdrive.ErrReadOnly) {
		t.Errorf("Put on a checkout: %v", err)
	}
	var diffs []string
	for de, err := range d.Diff(ctx, v, "/") {
		if err != nil {
			t.Fatal(err)
		}
		diffs = append(diffs, fmt.Sprintf("%v/%v", de.Left != nil, de.Right != nil))
	}
	if got := strings.Join(diffs, " "); got != "false/true" {
		t.Errorf("diff = %s", got)
	}
	if ok, err := d.Has(ctx, "/docs"); !ok || err != nil {
		t.Errorf("Has(/docs) = %v, %v", ok, err)
	}
	var progress []hyperdrive.DownloadProgress
	if err := d.Download(ctx, "/", &hyperdrive.DownloadOptions{Progress: func(p hyperdrive.DownloadProgress) { progress = append(progress, p) }}); err != nil {
		t.Fatal(err)
	}
	if len(progress) != 3 || progress[2].Files != 3 { // the empty file and the link have no blocks
		t.Errorf("progress = %+v", progress)
	}
	if err := d.Clear(ctx, "/docs/guide/intro.md"); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Has(ctx, "/docs/guide/intro.md"); ok || err != nil {
		t.Errorf("Has after Clear = %v, %v", ok, err)
	}
}

func TestWriteStream(t *testing.T) {
	ctx := context.Background()
	d := newDrive(t, memStore(t), nil)
	w, err := d.CreateWriteStream(ctx, "/big", &hyperdrive.PutOptions{Metadata: json.RawMessage(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	data := gen("mix", 3, 300000)
	for off := 0; off < len(data); off += 7777 {
		w.Write(data[off:min(off+7777, len(data))])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	e, _ := d.Entry(ctx, "/big")
	if e == nil || e.Value.Blob.BlockLength != 5 || string(e.Value.Metadata) != `{"a":1}` {
		t.Fatalf("entry = %+v", e)
	}
	r, err := d.CreateReadStream(ctx, "/big", &hyperdrive.ReadOptions{Start: 65000, Length: 100000})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); !bytes.Equal(got, data[65000:165000]) || err != nil {
		t.Errorf("ranged read: %d bytes, %v", len(got), err)
	}
	// An abandoned stream writes no entry.
	w, _ = d.CreateWriteStream(ctx, "/abandoned", nil)
	w.Write([]byte("x"))
	w.(interface{ CloseWithError(error) error }).CloseWithError(errors.New("stop"))
	if ok, _ := d.Exists(ctx, "/abandoned"); ok {
		t.Error("abandoned stream wrote an entry")
	}
}

func TestFS(t *testing.T) {
	d := sampleDrive(t)
	fsys := d.FS()
	if err := fstest.TestFS(fsys, "README.md", "docs/guide/intro.md", "docs/日本.txt", "bin/tool", "empty", "docs/link"); err != nil {
		t.Fatal(err)
	}
	// The snapshot does not see later writes.
	d.Put(context.Background(), "/later", []byte("x"), nil)
	if _, err := fs.Stat(fsys, "later"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("snapshot sees a later write: %v", err)
	}
	if info, err := fs.Stat(fsys, "bin/tool"); err != nil || info.Mode() != 0o755 {
		t.Errorf("Stat(bin/tool) = %v, %v", info, err)
	}
}

func TestFileServerRange(t *testing.T) {
	d := sampleDrive(t)
	srv := httptest.NewServer(http.FileServerFS(d.FS()))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/docs/guide/intro.md", nil)
	req.Header.Set("Range", "bytes=70000-70011")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	want := strings.Repeat("intro ", 20000)[70000:70012]
	if res.StatusCode != http.StatusPartialContent || string(body) != want {
		t.Errorf("range request: %s %q, want 206 %q", res.Status, body, want)
	}
}

// jsonTexts are metadata texts whose JS re-encoding the drive must match.
var jsonTexts = []string{
	`{"b":1,"a":2,"10":3,"9":4,"01":5,"4294967295":6,"4294967294":7}`,
	`{"a":1,"a":2,"b":{"a":[]}}`,
	`[1.0,-0,0.1,1e21,1e-7,123456789012345678901234567890,5e-324,1.7976931348623157e308,1e400,-1e-400]`,
	`["<>&","\u2028\u2029","\u0000\u001f\b\f\n\r\t","\"\\/","é𝄞"]`,
	` { "x" : [ true , false , null ] } `,
	`1e20`, `123e-20`, `"s"`, `null`,
}

func TestStringifyInterop(t *testing.T) {
	var js []string
	jsref.JSON(t, map[string]any{"op": "stringify", "texts": jsonTexts}, &js, "hyperdrive/drive.js")
	for i, text := range jsonTexts {
		v := hyperdrive.EntryValue{Metadata: json.RawMessage(text)}
		b, err := hyperdrive.EncodeEntryValue(v)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		got := strings.TrimSuffix(strings.TrimPrefix(string(b), `{"executable":false,"linkname":null,"blob":null,"metadata":`), "}")
		if js[i] == "null" {
			got = "null"
		}
		if got != js[i] {
			t.Errorf("metadata %s: Go %s, JS %s", text, got, js[i])
		}
	}
}

// FuzzDecodeEntryValue: decoding never panics, and a decoded value
// re-encodes to a value that decodes to the same thing.
func FuzzDecodeEntryValue(f *testing.F) {
	f.Add([]byte(`{"executable":false,"linkname":null,"blob":{"blockOffset":1,"byteOffset":2,"blockLength":3,"byteLength":4},"metadata":null}`))
	f.Add([]byte(`{"executable":true,"linkname":"/x","blob":null,"metadata":{"a":[1,"b"]}}`))
	f.Add([]byte(`{"blob":{"blockMap":true}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := hyperdrive.DecodeEntryValue(b)
		if err != nil {
			return
		}
		enc, err := hyperdrive.EncodeEntryValue(v)
		if err != nil {
			return // metadata that is not valid JSON text for JS
		}
		v2, err := hyperdrive.DecodeEntryValue(enc)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", enc, err)
		}
		enc2, err := hyperdrive.EncodeEntryValue(v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %s then %s (%v)", enc, enc2, err)
		}
	})
}

// Walk a drive snapshot with io/fs.
func ExampleDrive_FS() {
	ctx := context.Background()
	store, err := hypercore.OpenStore("", &hypercore.StoreOptions{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	drive, err := hyperdrive.New(ctx, store, [32]byte{}, nil)
	if err != nil {
		panic(err)
	}
	defer drive.Close()
	drive.Put(ctx, "/src/main.go", []byte("package main\n"), nil)
	drive.Put(ctx, "/README.md", []byte("# demo\n"), nil)
	drive.Symlink(ctx, "/src/readme", "/README.md")

	fs.WalkDir(drive.FS(), ".", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := de.Info()
		fmt.Println(p, info.Mode(), info.Size())
		return nil
	})
	// Output:
	// . drwxr-xr-x 0
	// README.md -rw-r--r-- 7
	// src drwxr-xr-x 0
	// src/main.go -rw-r--r-- 13
	// src/readme Lrwxrwxrwx 10
}
