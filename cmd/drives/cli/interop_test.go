package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gopear/gopear/internal/jsref"
)

// interopFile is a file (or link) of the interop drives.
type interopFile struct {
	Path       string `json:"path"`
	Content    string `json:"content,omitempty"` // base64
	Executable bool   `json:"executable,omitempty"`
	Link       string `json:"link,omitempty"`
}

// interopFiles is the content both directions exchange: small and large
// files, an executable, nested folders and relative links.
func interopFiles() []interopFile {
	big := make([]byte, 400_000) // several 64 KiB blocks
	for i := range big {
		big[i] = byte(i*7 + i>>9)
	}
	b64 := base64.StdEncoding.EncodeToString
	return []interopFile{
		{Path: "/readme.txt", Content: b64([]byte("hello from a drive\n"))},
		{Path: "/bin/tool", Content: b64([]byte("#!/bin/sh\necho tool\n")), Executable: true},
		{Path: "/data/big.bin", Content: b64(big)},
		{Path: "/data/empty", Content: ""},
		{Path: "/data/nested/deep.txt", Content: b64([]byte("deep"))},
		{Path: "/latest", Link: "bin/tool"},
		{Path: "/data/up", Link: "../readme.txt"},
	}
}

// checkFolder checks that dir holds exactly files, byte for byte, with
// their executable bits and links.
func checkFolder(t *testing.T, dir string, files []interopFile) {
	t.Helper()
	want := make(map[string]interopFile)
	for _, f := range files {
		want[f.Path] = f
	}
	seen := 0
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		key := "/" + filepath.ToSlash(rel)
		f, ok := want[key]
		if !ok {
			t.Errorf("unexpected %s", key)
			return nil
		}
		seen++
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if f.Link != "" {
			target, err := os.Readlink(p)
			if err != nil || target != f.Link {
				t.Errorf("%s -> %q (%v), want -> %q", key, target, err, f.Link)
			}
			return nil
		}
		if !info.Mode().IsRegular() {
			t.Errorf("%s: mode %v, want a file", key, info.Mode())
			return nil
		}
		if exec := info.Mode().Perm()&0o100 != 0; exec != f.Executable {
			t.Errorf("%s: mode %v, executable want %v", key, info.Mode(), f.Executable)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		wantContent, _ := base64.StdEncoding.DecodeString(f.Content)
		if !bytes.Equal(got, wantContent) {
			t.Errorf("%s: %d bytes differ from the %d written", key, len(got), len(wantContent))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(files) {
		t.Errorf("%d entries in %s, want %d", seen, dir, len(files))
	}
}

// writeFolder writes files into dir.
func writeFolder(t *testing.T, dir string, files []interopFile) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if f.Link != "" {
			if err := os.Symlink(f.Link, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, _ := base64.StdEncoding.DecodeString(f.Content)
		mode := os.FileMode(0o644)
		if f.Executable {
			mode = 0o755
		}
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInteropJSSeedsGoMirrors: a JS hyperdrive served over TCP by a JS
// corestore is mirrored into a folder by `drives mirror <key> <dir>
// --connect`, byte for byte.
func TestInteropJSSeedsGoMirrors(t *testing.T) {
	jsref.Require(t)
	js := jsref.Start(t, "drives/peer.js")
	defer js.Send(map[string]string{"op": "close"})
	files := interopFiles()
	js.Send(map[string]any{"op": "seed", "files": files})
	var seeded struct {
		Key     string
		Port    int
		Version uint64
		Error   string
	}
	js.Recv(&seeded)
	if seeded.Error != "" {
		t.Fatal(seeded.Error)
	}

	work := t.TempDir()
	dst := filepath.Join(work, "out")
	storage := filepath.Join(work, "st")
	addr := "127.0.0.1:" + strconv.Itoa(seeded.Port)
	stdout := mustRun(t, "mirror", seeded.Key, dst, "--storage", storage, "--connect", addr, "--json")
	var res mirrorJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if res.Count.Add != len(files) || res.Count.Files != len(files) {
		t.Errorf("count %+v, want %d files added", res.Count, len(files))
	}
	checkFolder(t, dst, files)

	// The JS drive grows; a second mirror into the same storage waits for
	// the new version and brings the new file.
	added := []byte("written after the first mirror\n")
	js.Send(map[string]any{"op": "put", "path": "/later.txt", "content": base64.StdEncoding.EncodeToString(added)})
	var put struct{ Version uint64 }
	js.Recv(&put)
	seeded.Version = put.Version
	stdout = mustRun(t, "mirror", seeded.Key, dst, "--storage", storage, "--connect", addr, "--json")
	res = mirrorJSON{}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if res.Count.Add != 1 || res.Count.Change != 0 || res.Count.Remove != 0 {
		t.Errorf("second mirror: count %+v, want one file added", res.Count)
	}
	files = append(files, interopFile{Path: "/later.txt", Content: base64.StdEncoding.EncodeToString(added)})
	checkFolder(t, dst, files)

	// The copy is stored: info reads the JS drive's version offline.
	var info infoJSON
	if err := json.Unmarshal([]byte(mustRun(t, "info", seeded.Key, "--storage", storage, "--json")), &info); err != nil {
		t.Fatal(err)
	}
	if info.Version != seeded.Version || info.Writable {
		t.Errorf("info: version %d writable %v, want version %d read-only", info.Version, info.Writable, seeded.Version)
	}
}

// TestInteropGoSeedsJSMirrors: `drives seed --listen` serves a drive made
// by `drives mirror <folder> <key>`, and JS mirror-drive copies it into a
// folder through a JS corestore, byte for byte.
func TestInteropGoSeedsJSMirrors(t *testing.T) {
	jsref.Require(t)
	files := interopFiles()
	work := t.TempDir()
	src := filepath.Join(work, "src")
	storage := filepath.Join(work, "st")
	writeFolder(t, src, files)
	key := touch(t, storage)
	mustRun(t, "mirror", src, key.String(), "--storage", storage)

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- RunWithContext(ctx, []string{"seed", key.String(), "--listen", "127.0.0.1:0", "--storage", storage, "--json"}, pw, &stderr)
		pw.Close()
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("seed: %v\n%s", err, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Error("seed did not stop")
		}
	}()
	var seed struct {
		Key    string
		Listen string
	}
	if err := json.NewDecoder(pr).Decode(&seed); err != nil {
		t.Fatalf("seed output: %v\n%s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	_, portStr, err := net.SplitHostPort(seed.Listen)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portStr)

	js := jsref.Start(t, "drives/peer.js")
	defer js.Send(map[string]string{"op": "close"})
	dst := filepath.Join(work, "js-out")
	hexKey := hex.EncodeToString(key[:])
	js.Send(map[string]any{"op": "mirror", "key": hexKey, "port": port, "dir": dst})
	var res struct {
		Version uint64
		Count   struct{ Files, Add int }
		Error   string
	}
	js.Recv(&res)
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	if res.Count.Add != len(files) {
		t.Errorf("JS count %+v, want %d added", res.Count, len(files))
	}
	if res.Version != uint64(len(files)+1) {
		t.Errorf("JS sees version %d, want %d", res.Version, len(files)+1)
	}
	checkFolder(t, dst, files)
}
