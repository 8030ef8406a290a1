package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
)

// run runs the drives command in-process and returns its stdout, stderr
// and error.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := RunWithContext(ctx, args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// mustRun is run that fails t on an error.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := run(t, args...)
	if err != nil {
		t.Fatalf("drives %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return stdout
}

// touch makes a drive in storage and returns its key.
func touch(t *testing.T, storage string) hypercore.Key {
	t.Helper()
	var out struct{ Key string }
	if err := json.Unmarshal([]byte(mustRun(t, "touch", "--json", "--storage", storage)), &out); err != nil {
		t.Fatal(err)
	}
	k, err := hypercore.ParseKey(out.Key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// withDrive opens the drive key of storage, writable, for fn.
func withDrive(t *testing.T, storage string, key hypercore.Key, fn func(ctx context.Context, d *hyperdrive.Drive)) {
	t.Helper()
	ctx := context.Background()
	store, err := corestore.Open(ctx, filepath.Join(storage, "corestore"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d, err := hyperdrive.New(ctx, store, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.Writable() {
		t.Fatal("drive not writable")
	}
	fn(ctx, d)
}

// TestExportEscapes mirrors a hostile drive into a folder: entries whose
// keys climb out of the folder, hold NUL bytes or go through links, and
// links pointing outside. Nothing may be written outside the folder, and
// links are written as links, never followed.
func TestExportEscapes(t *testing.T) {
	work := t.TempDir()
	storage := filepath.Join(work, "st")
	dst := filepath.Join(work, "jail", "dst")
	outside := filepath.Join(work, "outside")
	for _, dir := range []string{dst, outside} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	victim := filepath.Join(outside, "victim.txt")
	if err := os.WriteFile(victim, []byte("untouched\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Links already in the destination that lead outside: one where the
	// drive has a folder, one where it has a file.
	if err := os.Symlink(outside, filepath.Join(dst, "pre")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dst, "over.txt")); err != nil {
		t.Fatal(err)
	}

	key := touch(t, storage)
	withDrive(t, storage, key, func(ctx context.Context, d *hyperdrive.Drive) {
		if err := d.Put(ctx, "/ok.txt", []byte("pwned\n"), nil); err != nil {
			t.Fatal(err)
		}
		if err := d.Put(ctx, "/over.txt", []byte("pwned\n"), nil); err != nil {
			t.Fatal(err)
		}
		ok, err := d.Entry(ctx, "/ok.txt")
		if err != nil || ok == nil {
			t.Fatal(ok, err)
		}
		file := ok.Value
		link := func(target string) hyperdrive.EntryValue { return hyperdrive.EntryValue{Linkname: target} }
		raw := map[string]hyperdrive.EntryValue{
			"/../escape.txt":                         file,
			"/../../escape.txt":                      file,
			"/a/../../escape.txt":                    file,
			"/./a/../../escape.txt":                  file,
			"/nul\x00.txt":                           file,
			"//double.txt":                           file,
			"/pre/victim.txt":                        file, // through a link already there
			"/up":                                    link("../../outside"),
			"/up/victim.txt":                         file, // through a link the drive makes
			"/up2":                                   link("../../../outside/victim.txt"),
			"/abs":                                   link("/../../outside"),
			"/abs2":                                  link(outside),
			"/abs2/victim.txt":                       file,
			"/inside":                                link("/ok.txt"),
			"/" + strings.Repeat("../", 8) + "tmp/x": file,
		}
		files := d.Bee().Sub([]byte("files"))
		for k, v := range raw {
			b, err := hyperdrive.EncodeEntryValue(v)
			if err != nil {
				t.Fatal(err)
			}
			if err := files.Put(ctx, []byte(k), b); err != nil {
				t.Fatal(err)
			}
		}
	})

	var stderrLog string
	before := snapshot(t, work, dst, storage)
	defer func() { t.Logf("mirror stderr:\n%s", stderrLog) }()
	stdout, stderr, err := run(t, "mirror", key.String(), dst, "--storage", storage)
	stderrLog = stderr
	if err == nil {
		t.Fatalf("mirror of a hostile drive succeeded\n%s\n%s", stdout, stderr)
	}
	if !strings.Contains(err.Error(), "unsafe entries were not written") {
		t.Errorf("error: %v", err)
	}
	if !strings.Contains(stderr, "skipping unsafe path") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if after := snapshot(t, work, dst, storage); !equalMaps(before, after) {
		t.Errorf("files outside the destination changed:\nbefore %v\nafter  %v", before, after)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "untouched\n" {
		t.Errorf("victim: %q, %v", b, err)
	}

	// What is inside was written: plain files, and links as links.
	if b, err := os.ReadFile(filepath.Join(dst, "ok.txt")); err != nil || string(b) != "pwned\n" {
		t.Errorf("ok.txt: %q, %v", b, err)
	}
	st, err := os.Lstat(filepath.Join(dst, "over.txt"))
	if err != nil || !st.Mode().IsRegular() {
		t.Errorf("over.txt should be a file replacing the link: %v, %v", st, err)
	}
	for name, target := range map[string]string{
		"up":     "../../outside",
		"up2":    "../../../outside/victim.txt",
		"abs2":   filepath.Join(dst, outside), // a drive path: under the folder
		"inside": filepath.Join(dst, "ok.txt"),
	} {
		got, err := os.Readlink(filepath.Join(dst, name))
		if err != nil || got != target {
			t.Errorf("%s -> %q (%v), want a link to %q", name, got, err, target)
		}
	}
	for _, name := range []string{"abs", "double.txt", "escape.txt", "a"} {
		if _, err := os.Lstat(filepath.Join(dst, name)); err == nil {
			t.Errorf("%s was written", name)
		}
	}
	if lines := strings.Count(stderr, "skipping unsafe path"); lines < 10 {
		t.Errorf("%d entries skipped, want at least 10:\n%s", lines, stderr)
	}
}

// snapshot returns every file under root that is not under one of skip,
// with its mode and content (links with their target).
func snapshot(t *testing.T, root string, skip ...string) map[string]string {
	t.Helper()
	m := make(map[string]string)
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, s := range skip {
			if p == s {
				return filepath.SkipDir
			}
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			m[p] = "link " + target
		case info.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			m[p] = info.Mode().String() + " " + string(b)
		default:
			m[p] = info.Mode().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCheckExportPath checks the path rule on its own.
func TestCheckExportPath(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("/", filepath.Join(root, "l")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"/a.txt", true},
		{"/d/a.txt", true},
		{"/new/deep/a.txt", true},
		{"/l", true}, // replacing the link itself is fine
		{"/l/etc/passwd", false},
		{"/../a", false},
		{"/a/../b", false},
		{"/a//b", false},
		{"a", false},
		{"/", false},
		{"/a\x00b", false},
		{"/a/", false},
		{`/a\b`, false},
	} {
		err := checkExportPath(root, tc.key)
		if (err == nil) != tc.ok {
			t.Errorf("checkExportPath(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
	}
}
