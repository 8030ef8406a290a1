package localdrive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
)

func newDrive(t *testing.T, opts *localdrive.Options) *localdrive.Drive {
	t.Helper()
	d, err := localdrive.New(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func put(t *testing.T, d *localdrive.Drive, key, data string, opts *hyperdrive.PutOptions) {
	t.Helper()
	if err := d.Put(context.Background(), key, []byte(data), opts); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func keys(t *testing.T, d *localdrive.Drive, folder string, opts *hyperdrive.ListOptions) []string {
	t.Helper()
	var out []string
	for e, err := range d.List(context.Background(), folder, opts) {
		if err != nil {
			t.Fatalf("List(%q): %v", folder, err)
		}
		out = append(out, e.Key)
	}
	return out
}

func TestPutGetEntry(t *testing.T) {
	ctx := context.Background()
	d := newDrive(t, nil)
	put(t, d, "a/b/c.txt", "hello", nil)
	put(t, d, "/run.sh", "#!/bin/sh\n", &hyperdrive.PutOptions{Executable: true})
	put(t, d, "/empty", "", nil)

	got, err := d.Get(ctx, `\a\.\b\c.txt`)
	if err != nil || string(got) != "hello" {
		t.Fatalf("Get = %q, %v; want hello", got, err)
	}
	e, err := d.Entry(ctx, "a/b/c.txt")
	if err != nil || e == nil {
		t.Fatalf("Entry = %v, %v", e, err)
	}
	if e.Key != "/a/b/c.txt" || e.Value.Executable || e.Value.Linkname != "" || e.Value.Blob == nil || e.Value.Blob.ByteLength != 5 || e.Value.Metadata != nil {
		t.Errorf("Entry = %+v, blob %+v", e, e.Value.Blob)
	}
	if e.Mtime.IsZero() {
		t.Errorf("Entry has no mtime")
	}
	e, _ = d.Entry(ctx, "/run.sh")
	if e == nil || !e.Value.Executable {
		t.Errorf("Entry(/run.sh) = %+v; want executable", e)
	}
	st, err := os.Stat(filepath.Join(d.Root(), "run.sh"))
	if err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh mode = %v, %v; want executable", st.Mode(), err)
	}
	// Rewriting without Executable clears the bit, as JS's fchmod does.
	put(t, d, "/run.sh", "x", nil)
	if e, _ = d.Entry(ctx, "/run.sh"); e.Value.Executable {
		t.Errorf("rewritten /run.sh is still executable")
	}
	e, _ = d.Entry(ctx, "/empty")
	if e == nil || e.Value.Blob == nil || e.Value.Blob.ByteLength != 0 || e.Value.Blob.BlockLength != 0 {
		t.Errorf("Entry(/empty) = %+v", e)
	}
	for _, key := range []string{"/a", "/a/b", "/", "/missing", "/a/b/c.txt/x"} {
		if e, err := d.Entry(ctx, key); e != nil || err != nil {
			t.Errorf("Entry(%q) = %+v, %v; want nil, nil", key, e, err)
		}
	}
	if _, err := d.Get(ctx, "/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get(/missing) error = %v; want fs.ErrNotExist", err)
	}
	if ok, err := d.Exists(ctx, "/empty"); !ok || err != nil {
		t.Errorf("Exists(/empty) = %v, %v", ok, err)
	}
}

func TestDelRemovesEmptyFolders(t *testing.T) {
	ctx := context.Background()
	d := newDrive(t, nil)
	put(t, d, "/a/b/c/one", "1", nil)
	put(t, d, "/a/two", "2", nil)
	if err := d.Del(ctx, "/a/b/c/one"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Root(), "a", "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("/a/b still there after deleting its only file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.Root(), "a", "two")); err != nil {
		t.Errorf("/a/two: %v", err)
	}
	if err := d.Del(ctx, "/missing/file"); err != nil {
		t.Errorf("Del(missing) = %v; want nil", err)
	}
	if err := d.Del(ctx, "/a"); err == nil {
		t.Errorf("Del(folder) = nil; want an error")
	}
	if _, err := os.Stat(d.Root()); err != nil {
		t.Errorf("the root was removed: %v", err)
	}
}

func TestMetadata(t *testing.T) {
	ctx := context.Background()
	meta := localdrive.NewMetadataMap()
	d := newDrive(t, &localdrive.Options{Metadata: meta})
	if !d.SupportsMetadata() {
		t.Fatal("SupportsMetadata = false")
	}
	put(t, d, "/f", "x", &hyperdrive.PutOptions{Metadata: []byte(`{"a":1}`)})
	e, _ := d.Entry(ctx, "/f")
	if string(e.Value.Metadata) != `{"a":1}` {
		t.Errorf("metadata = %s", e.Value.Metadata)
	}
	put(t, d, "/f", "y", nil) // no metadata: deleted, as JS
	if e, _ = d.Entry(ctx, "/f"); e.Value.Metadata != nil {
		t.Errorf("metadata after put without = %s", e.Value.Metadata)
	}
	put(t, d, "/g", "x", &hyperdrive.PutOptions{Metadata: []byte(`"m"`)})
	if err := d.Del(ctx, "/g"); err != nil {
		t.Fatal(err)
	}
	if m, _ := meta.Get(ctx, "/g"); m != nil {
		t.Errorf("metadata of deleted /g = %s", m)
	}
	if newDrive(t, nil).SupportsMetadata() {
		t.Errorf("a drive without a store supports metadata")
	}
}

// TestPathEscape tries to leave the root through keys.
func TestPathEscape(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	d, err := localdrive.New(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"..", "../x", "/../x", "a/../../x", `..\x`, "/a/b/../../../x", "c:/../x", "a\x00b"} {
		if err := d.Put(ctx, key, []byte("x"), nil); !errors.Is(err, hyperdrive.ErrInvalidPath) {
			t.Errorf("Put(%q) = %v; want ErrInvalidPath", key, err)
		}
		if _, err := d.Entry(ctx, key); !errors.Is(err, hyperdrive.ErrInvalidPath) {
			t.Errorf("Entry(%q) = %v; want ErrInvalidPath", key, err)
		}
		if err := d.Del(ctx, key); !errors.Is(err, hyperdrive.ErrInvalidPath) {
			t.Errorf("Del(%q) = %v; want ErrInvalidPath", key, err)
		}
		if err := d.Symlink(ctx, "/l", key); key[0] == '/' && !errors.Is(err, hyperdrive.ErrInvalidPath) && !strings.Contains(key, "\x00") {
			t.Errorf("Symlink(/l, %q) = %v; want ErrInvalidPath", key, err)
		}
		d.Del(ctx, "/l")
	}
	// Absolute and foreign-looking keys land inside the root.
	for key, want := range map[string]string{
		"/etc/passwd":        "etc/passwd",
		parent + "/x":        strings.TrimPrefix(parent, "/") + "/x",
		"c:/windows/x":       "windows/x",
		"http://evil.com/y":  "y",
		`\\server\share\z`:   "server/share/z",
		"file:///abs/path/w": "abs/path/w",
	} {
		put(t, d, key, "x", nil)
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(want))); err != nil {
			t.Errorf("Put(%q) did not write %s under the root: %v", key, want, err)
		}
	}
	ents, _ := os.ReadDir(parent)
	if len(ents) != 1 || ents[0].Name() != "root" {
		t.Errorf("files appeared beside the root: %v", ents)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	d := newDrive(t, nil)
	for _, k := range []string{"/a/1", "/a/b/2", "/a/b/c/3", "/x/4", "/5"} {
		put(t, d, k, k, nil)
	}
	os.MkdirAll(filepath.Join(d.Root(), "empty", "nested"), 0o755)

	all := keys(t, d, "/", nil)
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	if want := []string{"/5", "/a/1", "/a/b/2", "/a/b/c/3", "/x/4"}; !slices.Equal(sorted, want) {
		t.Errorf("List(/) = %v; want %v in some order", all, want)
	}
	if got := keys(t, d, "", nil); !slices.Equal(got, all) {
		t.Errorf(`List("") = %v; want %v`, got, all)
	}
	got := keys(t, d, "a/b", nil)
	slices.Sort(got)
	if want := []string{"/a/b/2", "/a/b/c/3"}; !slices.Equal(got, want) {
		t.Errorf("List(a/b) = %v; want %v", got, want)
	}
	for _, folder := range []string{"/missing", "/5", "/empty"} {
		if got := keys(t, d, folder, nil); len(got) != 0 {
			t.Errorf("List(%q) = %v; want nothing", folder, got)
		}
	}
	got = keys(t, d, "/", &hyperdrive.ListOptions{Ignore: hyperdrive.IgnorePaths("/a/b", "/5")})
	slices.Sort(got)
	if want := []string{"/a/1", "/x/4"}; !slices.Equal(got, want) {
		t.Errorf("List with ignore = %v; want %v", got, want)
	}
	// Stopping early stops the walk.
	n := 0
	for range d.List(ctx, "/", nil) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("break after 1 gave %d", n)
	}
	// The order is the operating system's, folder by folder.
	var osOrder []string
	var walk func(dir, key string)
	walk = func(dir, key string) {
		f, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		ents, _ := f.ReadDir(-1)
		f.Close()
		for _, e := range ents {
			if e.IsDir() {
				walk(filepath.Join(dir, e.Name()), key+"/"+e.Name())
			} else {
				osOrder = append(osOrder, key+"/"+e.Name())
			}
		}
	}
	walk(d.Root(), "")
	if !slices.Equal(all, osOrder) {
		t.Errorf("List(/) = %v; the folders list %v", all, osOrder)
	}
}

func TestReaddir(t *testing.T) {
	ctx := context.Background()
	d := newDrive(t, nil)
	for _, k := range []string{"/b", "/a/1", "/c/d/2", "/Z"} {
		put(t, d, k, "x", nil)
	}
	os.MkdirAll(filepath.Join(d.Root(), "empty", "nested"), 0o755)
	var got []string
	for name, err := range d.Readdir(ctx, "/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if want := []string{"Z", "a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Readdir(/) = %v; want %v", got, want)
	}
	got = nil
	for name := range d.Readdir(ctx, "c") {
		got = append(got, name)
	}
	if want := []string{"d"}; !slices.Equal(got, want) {
		t.Errorf("Readdir(c) = %v; want %v", got, want)
	}
}

func TestSymlink(t *testing.T) {
	ctx := context.Background()
	d := newDrive(t, nil)
	put(t, d, "/target.txt", "content", nil)
	put(t, d, "/dir/old", "replaced by a link", nil)
	if err := d.Symlink(ctx, "/dir/old", "/target.txt"); err != nil {
		t.Fatal(err)
	}
	if err := d.Symlink(ctx, "/links/rel", "../target.txt"); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"/dir/old": "/target.txt", "/links/rel": "../target.txt"} {
		e, err := d.Entry(ctx, key)
		if err != nil || e == nil || e.Value.Linkname != want || e.Value.Blob != nil || e.Value.Executable {
			t.Errorf("Entry(%q) = %+v, %v; want a link to %q", key, e, err, want)
		}
	}
	link, _ := os.Readlink(filepath.Join(d.Root(), "dir", "old"))
	if want := filepath.Join(d.Root(), "target.txt"); link != want {
		t.Errorf("link on disk = %q; want %q (absolute, as JS)", link, want)
	}
	e, err := d.Resolve(ctx, "/dir/old")
	if err != nil || e == nil || e.Key != "/target.txt" {
		t.Errorf("Resolve(/dir/old) = %+v, %v; want /target.txt", e, err)
	}
	// Get does not follow links, as JS.
	if _, err := d.Get(ctx, "/dir/old"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get(link) error = %v; want fs.ErrNotExist", err)
	}
	// A link to itself is a loop.
	d.Symlink(ctx, "/loop", "/loop")
	if _, err := d.Resolve(ctx, "/loop"); err == nil {
		t.Errorf("Resolve(/loop) = nil error")
	}
	// With FollowLinks, links look like their targets.
	f, _ := localdrive.New(d.Root(), &localdrive.Options{FollowLinks: true})
	if e, _ := f.Entry(ctx, "/dir/old"); e == nil || e.Value.Blob == nil || e.Value.Blob.ByteLength != 7 {
		t.Errorf("FollowLinks Entry(/dir/old) = %+v", e)
	}
	if e, _ := f.Entry(ctx, "/loop"); e != nil {
		t.Errorf("FollowLinks Entry(/loop) = %+v; want nil", e)
	}
}

func TestCreateReadStream(t *testing.T) {
	ctx := context.Background()
	d := newDrive(t, nil)
	put(t, d, "/f", "0123456789", nil)
	tests := []struct {
		opts *hyperdrive.ReadOptions
		want string
	}{
		{nil, "0123456789"},
		{&hyperdrive.ReadOptions{Start: 3}, "3456789"},
		{&hyperdrive.ReadOptions{Start: 3, Length: 4}, "3456"},
		{&hyperdrive.ReadOptions{Start: 8, Length: 10}, "89"},
		{&hyperdrive.ReadOptions{Start: 10}, ""},
		{&hyperdrive.ReadOptions{Start: 50, Length: 2}, ""},
		{&hyperdrive.ReadOptions{Length: 1}, "0"},
	}
	for _, tt := range tests {
		r, err := d.CreateReadStream(ctx, "/f", tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != tt.want {
			t.Errorf("CreateReadStream(%+v) read %q, %v; want %q", tt.opts, got, err, tt.want)
		}
		if err := r.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
	}
	r, _ := d.CreateReadStream(ctx, "/f", &hyperdrive.ReadOptions{Start: 2, Length: 5})
	defer r.Close()
	b := make([]byte, 2)
	if n, err := r.(io.ReaderAt).ReadAt(b, 3); n != 2 || string(b) != "56" {
		t.Errorf("ReadAt = %d, %v, %q", n, err, b)
	}
	for _, key := range []string{"/missing", "/"} {
		if _, err := d.CreateReadStream(ctx, key, nil); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("CreateReadStream(%q) error = %v; want fs.ErrNotExist", key, err)
		}
	}
}

func TestWriteStreamAtomic(t *testing.T) {
	ctx := context.Background()
	d := newDrive(t, &localdrive.Options{Atomic: true})
	put(t, d, "/f", "old", nil)
	w, err := d.CreateWriteStream(ctx, "/f", nil)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "new content")
	if got, _ := d.Get(ctx, "/f"); string(got) != "old" {
		t.Errorf("during an atomic write /f = %q; want old", got)
	}
	if _, err := os.Stat(filepath.Join(d.Root(), "f.0.localdrive.tmp")); err != nil {
		t.Errorf("no temporary file: %v", err)
	}
	w2, _ := d.CreateWriteStream(ctx, "/f", nil) // a second writer gets the next name
	if _, err := os.Stat(filepath.Join(d.Root(), "f.1.localdrive.tmp")); err != nil {
		t.Errorf("no second temporary file: %v", err)
	}
	w2.(interface{ CloseWithError(error) error }).CloseWithError(errors.New("abandoned"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Get(ctx, "/f"); string(got) != "new content" {
		t.Errorf("after the atomic write /f = %q", got)
	}
	if got := keys(t, d, "/", nil); !slices.Equal(got, []string{"/f"}) {
		t.Errorf("temporary files left: %v", got)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Errorf("Write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestFS(t *testing.T) {
	d := newDrive(t, nil)
	files := map[string]string{
		"README.md":                       "hi",
		"a/b/c.txt":                       "deep",
		"ünïcödé/日本語.txt":                 "unicode",
		"empty":                           "",
		"bin/tool":                        "#!/bin/sh",
		"big/" + strings.Repeat("n", 100): strings.Repeat("x", 200000),
	}
	var names []string
	for name, data := range files {
		put(t, d, name, data, nil)
		names = append(names, name)
	}
	ctx := context.Background()
	d.Symlink(ctx, "/links/readme", "../README.md")
	if err := fstest.TestFS(d.FS(), append(names, "links/readme")...); err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(d.FS(), "a/b/c.txt")
	if err != nil || string(got) != "deep" {
		t.Errorf("ReadFile = %q, %v", got, err)
	}
	// Links that leave the root are not followed.
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.Symlink(outside, filepath.Join(d.Root(), "escape"))
	if _, err := fs.ReadFile(d.FS(), "escape"); err == nil {
		t.Errorf("read through a link out of the root")
	}
	for _, name := range []string{"../x", "/etc/passwd", "a/../../x"} {
		if _, err := d.FS().Open(name); err == nil {
			t.Errorf("Open(%q) succeeded", name)
		}
	}
}

func TestEntryExternalLinks(t *testing.T) {
	ctx := context.Background()
	outside := filepath.Join(t.TempDir(), "out.txt")
	os.WriteFile(outside, []byte("outside"), 0o755)
	root := t.TempDir()
	os.Symlink(outside, filepath.Join(root, "ext"))
	os.WriteFile(filepath.Join(root, "in.txt"), []byte("in"), 0o644)
	os.Symlink("in.txt", filepath.Join(root, "int"))

	plain, _ := localdrive.New(root, nil)
	if e, _ := plain.Entry(ctx, "/ext"); e == nil || e.Value.Linkname != outside {
		t.Errorf("Entry(/ext) = %+v; want a link to %s", e, outside)
	}
	follow, _ := localdrive.New(root, &localdrive.Options{FollowExternalLinks: true})
	e, _ := follow.Entry(ctx, "/ext")
	if e == nil || e.Value.Blob == nil || e.Value.Blob.ByteLength != 7 || !e.Value.Executable {
		t.Errorf("FollowExternalLinks Entry(/ext) = %+v; want the outside file", e)
	}
	if got, err := follow.Get(ctx, "/ext"); err != nil || !bytes.Equal(got, []byte("outside")) {
		t.Errorf("FollowExternalLinks Get(/ext) = %q, %v", got, err)
	}
	if e, _ := follow.Entry(ctx, "/int"); e == nil || e.Value.Linkname != "in.txt" {
		t.Errorf("FollowExternalLinks Entry(/int) = %+v; want a link", e)
	}
}

// TestConcurrentWrites writes files from many goroutines into folders
// that others empty and remove meanwhile: every write lands, whatever the
// order.
func TestConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	for _, atomic := range []bool{false, true} {
		d := newDrive(t, &localdrive.Options{Atomic: atomic})
		if !d.ConcurrentWrites() {
			t.Fatal("ConcurrentWrites() = false")
		}
		const writers, files = 8, 40
		stop, deleted := make(chan struct{}), make(chan error, 1)
		go func() {
			// Create and delete a file in the shared folders, so that
			// they are removed whenever they are left empty.
			for i := 0; ; i++ {
				select {
				case <-stop:
					deleted <- nil
					return
				default:
				}
				key := fmt.Sprintf("/f%d/g%d/tmp", i%3, i%2)
				if err := d.Put(ctx, key, []byte("x"), nil); err != nil {
					deleted <- err
					return
				}
				if err := d.Del(ctx, key); err != nil {
					deleted <- err
					return
				}
			}
		}()
		written := make(chan error, writers)
		for w := range writers {
			go func() {
				for i := range files {
					key := fmt.Sprintf("/f%d/g%d/w%d-%d.txt", i%3, i%2, w, i)
					data := strings.Repeat(key, i)
					if err := d.Put(ctx, key, []byte(data), &hyperdrive.PutOptions{Executable: i%5 == 0}); err != nil {
						written <- err
						return
					}
				}
				written <- nil
			}()
		}
		for range writers {
			if err := <-written; err != nil {
				t.Errorf("atomic %v: %v", atomic, err)
			}
		}
		close(stop)
		if err := <-deleted; err != nil {
			t.Errorf("atomic %v: %v", atomic, err)
		}
		for w := range writers {
			for i := range files {
				key := fmt.Sprintf("/f%d/g%d/w%d-%d.txt", i%3, i%2, w, i)
				e, err := d.Entry(ctx, key)
				if err != nil || e == nil || e.Value.Executable != (i%5 == 0) {
					t.Fatalf("atomic %v: Entry(%s) = %+v, %v", atomic, key, e, err)
				}
				got, err := d.Get(ctx, key)
				if err != nil || string(got) != strings.Repeat(key, i) {
					t.Errorf("atomic %v: %s: %q, %v", atomic, key, got, err)
				}
			}
		}
	}
}
