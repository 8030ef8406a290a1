package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/internal/jsref"
)

// syncBuffer is a bytes.Buffer that a running command writes while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// liveCmd is a drives command running in the background.
type liveCmd struct {
	t              *testing.T
	stdout, stderr syncBuffer
	cancel         context.CancelFunc
	done           chan error
}

// startLive runs the drives command with args until stop.
func startLive(t *testing.T, args ...string) *liveCmd {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &liveCmd{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- RunWithContext(ctx, args, &c.stdout, &c.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-c.done:
		case <-time.After(20 * time.Second):
			t.Error("the command did not stop")
		}
	})
	return c
}

// stop interrupts the command, as Ctrl-C does, and returns its error.
func (c *liveCmd) stop() error {
	c.t.Helper()
	c.cancel()
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup
		return err
	case <-time.After(20 * time.Second):
		c.t.Fatalf("the command did not stop\nstdout:\n%s\nstderr:\n%s", c.stdout.String(), c.stderr.String())
		return nil
	}
}

// waitFor waits up to 20s for cond, failing t with what otherwise.
func (c *liveCmd) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		select {
		case err := <-c.done:
			c.done <- err
			c.t.Fatalf("waiting for %s: the command ended: %v\nstdout:\n%s\nstderr:\n%s", what, err, c.stdout.String(), c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waiting for %s: timed out\nstdout:\n%s\nstderr:\n%s", what, c.stdout.String(), c.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitOutput waits until stdout has a line equal to line.
func (c *liveCmd) waitOutput(line string) {
	c.t.Helper()
	c.waitFor("the line "+line, func() bool {
		return hasLine(c.stdout.String(), line)
	})
}

func hasLine(out, line string) bool {
	for l := range strings.Lines(out) {
		if strings.TrimSuffix(l, "\n") == line {
			return true
		}
	}
	return false
}

// fileIs reports whether the file at name holds content.
func fileIs(name, content string) func() bool {
	return func() bool {
		b, err := os.ReadFile(name)
		return err == nil && string(b) == content
	}
}

func gone(name string) func() bool {
	return func() bool {
		_, err := os.Lstat(name)
		return errors.Is(err, os.ErrNotExist)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMirrorLiveFolder: mirror --live from a folder picks up files
// added, changed and removed, leaves filtered ones alone, and stops
// cleanly when interrupted.
func TestMirrorLiveFolder(t *testing.T) {
	work := t.TempDir()
	src, out := filepath.Join(work, "src"), filepath.Join(work, "out")
	writeFile(t, filepath.Join(src, "a.txt"), "aaa")
	c := startLive(t, "mirror", "--live", src, out, "--filter", "*.log")
	c.waitOutput("✔ Total files: 1 (+1 -0 ~0)")
	if !fileIs(filepath.Join(out, "a.txt"), "aaa")() {
		t.Fatal("a.txt not mirrored first")
	}

	writeFile(t, filepath.Join(src, "sub", "b.txt"), "bb")
	c.waitFor("sub/b.txt", fileIs(filepath.Join(out, "sub", "b.txt"), "bb"))
	writeFile(t, filepath.Join(src, "a.txt"), "changed")
	c.waitFor("a.txt changed", fileIs(filepath.Join(out, "a.txt"), "changed"))
	writeFile(t, filepath.Join(src, "skip.log"), "filtered")
	writeFile(t, filepath.Join(src, ".git", "HEAD"), "ignored")
	if err := os.Remove(filepath.Join(src, "sub", "b.txt")); err != nil {
		t.Fatal(err)
	}
	c.waitFor("sub/b.txt removed", gone(filepath.Join(out, "sub", "b.txt")))
	if err := c.stop(); err != nil {
		t.Fatalf("stopped: %v\n%s", err, c.stderr.String())
	}
	for _, name := range []string{"skip.log", ".git"} {
		if _, err := os.Lstat(filepath.Join(out, name)); err == nil {
			t.Errorf("%s was mirrored", name)
		}
	}
	want := "+ /a.txt 3 B\n\n✔ Total files: 1 (+1 -0 ~0)\n\n+ /sub/b.txt 2 B\n~ /a.txt 7 B +4 B\n- /sub/b.txt 2 B\n"
	if got := c.stdout.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if s := c.stderr.String(); s != "" {
		t.Errorf("stderr: %s", s)
	}
}

// seeder serves the writable drive of a storage to TCP peers on
// 127.0.0.1, in-process, so that the test can write to it while a live
// mirror replicates it.
type seeder struct {
	d    *hyperdrive.Drive
	addr string
}

func startSeeder(t *testing.T, storage string, key hypercore.Key) *seeder {
	t.Helper()
	ctx := context.Background()
	store, err := corestore.Open(ctx, filepath.Join(storage, "corestore"), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := hyperdrive.New(ctx, store, key, nil)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var reps []*corestore.Replication
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			rep, err := store.Replicate(conn, false)
			if err != nil {
				conn.Close()
				continue
			}
			mu.Lock()
			reps = append(reps, rep)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, rep := range reps {
			rep.Close()
		}
		d.Close()
		store.Close()
	})
	return &seeder{d: d, addr: ln.Addr().String()}
}

func (s *seeder) put(t *testing.T, name, content string) {
	t.Helper()
	if err := s.d.Put(context.Background(), name, []byte(content), nil); err != nil {
		t.Fatal(err)
	}
}

func (s *seeder) del(t *testing.T, name string) {
	t.Helper()
	if err := s.d.Del(context.Background(), name); err != nil {
		t.Fatal(err)
	}
}

// TestMirrorLiveFromPeer: mirror --live <key> <folder> --connect follows
// a drive its peer writes to: each write under --prefix is mirrored as it
// replicates, writes elsewhere are not, and an interrupt stops it cleanly.
func TestMirrorLiveFromPeer(t *testing.T) {
	work := t.TempDir()
	storage := filepath.Join(work, "writer")
	key := touch(t, storage)
	mustRun(t, "put", key.String(), "/docs/first.txt", "first", "--storage", storage)
	mustRun(t, "put", key.String(), "/outside.txt", "outside", "--storage", storage)
	s := startSeeder(t, storage, key)

	out := filepath.Join(work, "out")
	c := startLive(t, "mirror", "--live", key.String(), out, "--prefix", "/docs",
		"--storage", filepath.Join(work, "reader"), "--connect", s.addr)
	c.waitOutput("✔ Total files: 1 (+1 -0 ~0)")

	s.put(t, "/docs/second.txt", "second")
	c.waitFor("docs/second.txt", fileIs(filepath.Join(out, "docs", "second.txt"), "second"))
	s.put(t, "/elsewhere.txt", "not mirrored")
	s.del(t, "/docs/first.txt")
	c.waitFor("docs/first.txt removed", gone(filepath.Join(out, "docs", "first.txt")))
	s.put(t, "/docs/second.txt", "second, longer")
	c.waitFor("docs/second.txt changed", fileIs(filepath.Join(out, "docs", "second.txt"), "second, longer"))
	if err := c.stop(); err != nil {
		t.Fatalf("stopped: %v\n%s", err, c.stderr.String())
	}
	for _, name := range []string{"elsewhere.txt", "outside.txt"} {
		if _, err := os.Lstat(filepath.Join(out, name)); err == nil {
			t.Errorf("%s, outside --prefix, was mirrored", name)
		}
	}
	want := "+ /docs/first.txt 5 B\n\n✔ Total files: 1 (+1 -0 ~0)\n\n" +
		"+ /docs/second.txt 6 B\n- /docs/first.txt 5 B\n~ /docs/second.txt 14 B +8 B\n"
	if got := c.stdout.String(); got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
}

// TestMirrorLiveJSON: with --json, each run is one line: the first
// mirror, then one per change, with the source version it mirrored; the
// destination is a drive.
func TestMirrorLiveJSON(t *testing.T) {
	work := t.TempDir()
	storage := filepath.Join(work, "writer")
	key := touch(t, storage)
	mustRun(t, "put", key.String(), "/a.txt", "a", "--storage", storage)
	s := startSeeder(t, storage, key)

	reader := filepath.Join(work, "reader")
	dst := touch(t, reader)
	c := startLive(t, "mirror", "--live", key.String(), dst.String(), "--storage", reader, "--connect", s.addr, "--json")
	lines := func() []mirrorJSON {
		var out []mirrorJSON
		for l := range strings.Lines(c.stdout.String()) {
			var m mirrorJSON
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			out = append(out, m)
		}
		return out
	}
	c.waitFor("the first run", func() bool { return len(lines()) == 1 })
	s.put(t, "/b.txt", "bb")
	c.waitFor("the second run", func() bool { return len(lines()) == 2 })
	s.put(t, "/c.txt", "ccc")
	c.waitFor("the third run", func() bool { return len(lines()) == 3 })
	if err := c.stop(); err != nil {
		t.Fatalf("stopped: %v\n%s", err, c.stderr.String())
	}
	got := lines()
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(got), c.stdout.String())
	}
	for i, want := range []struct {
		key     string
		version uint64 // of the source
	}{{"/a.txt", 2}, {"/b.txt", 3}, {"/c.txt", 4}} {
		m := got[i]
		if len(m.Changes) != 1 || m.Changes[0].Key != want.key || m.Changes[0].Op != "add" || m.Count.Add != 1 {
			t.Errorf("run %d: %+v, want %s added", i, m, want.key)
		}
		if m.SourceVersion != want.version || m.Source != key.String() || m.Destination != dst.String() {
			t.Errorf("run %d: source %s at %d, destination %s, want %s at %d", i, m.Source, m.SourceVersion, m.Destination, key, want.version)
		}
		// The destination, a new drive, has a header and one entry per
		// file.
		if m.Version != uint64(i+2) {
			t.Errorf("run %d: destination version %d, want %d", i, m.Version, i+2)
		}
	}
}

// TestMirrorLivePeerGone: when the only peer goes away, a live mirror of
// its drive ends with an error saying so.
func TestMirrorLivePeerGone(t *testing.T) {
	work := t.TempDir()
	storage := filepath.Join(work, "writer")
	key := touch(t, storage)
	mustRun(t, "put", key.String(), "/a.txt", "a", "--storage", storage)

	ctx := context.Background()
	store, err := corestore.Open(ctx, filepath.Join(storage, "corestore"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reps := make(chan *corestore.Replication, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			close(reps)
			return
		}
		rep, err := store.Replicate(conn, false)
		if err != nil {
			conn.Close()
			close(reps)
			return
		}
		reps <- rep
	}()

	c := startLive(t, "mirror", "--live", key.String(), filepath.Join(work, "out"),
		"--storage", filepath.Join(work, "reader"), "--connect", ln.Addr().String())
	c.waitOutput("✔ Total files: 1 (+1 -0 ~0)")
	rep := <-reps
	if rep == nil {
		t.Fatal("no replication")
	}
	rep.Close()
	var err2 error
	select {
	case err2 = <-c.done:
		c.done <- err2
	case <-time.After(20 * time.Second):
		t.Fatal("the live mirror did not end when its peer went away")
	}
	if err2 == nil || !strings.Contains(err2.Error(), "connection to the peer closed") {
		t.Errorf("error %v, want the peer's connection closed\n%s", err2, c.stderr.String())
	}
}

// TestInteropMirrorLiveJS: a JS hyperdrive writer (interop/hyperdrive/
// watch.js) served over TCP; `drives mirror --live <key> <folder>
// --connect` mirrors each file JS writes or deletes afterwards, as it
// replicates.
func TestInteropMirrorLiveJS(t *testing.T) {
	jsref.Require(t)
	js := jsref.Start(t, "hyperdrive/watch.js")
	defer js.Send(map[string]string{"op": "close"})
	b64 := base64.StdEncoding.EncodeToString
	call := func(cmd map[string]any, out any) {
		t.Helper()
		js.Send(cmd)
		var raw json.RawMessage
		js.Recv(&raw)
		var e struct{ Error string }
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			t.Fatalf("js %v: %s", cmd["op"], e.Error)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("js %v answered %s: %v", cmd["op"], raw, err)
		}
	}
	var seeded struct {
		Key     string `json:"key"`
		Port    int    `json:"port"`
		Version uint64 `json:"version"`
	}
	call(map[string]any{"op": "seed", "folder": "/", "files": []map[string]string{
		{"path": "/readme.txt", "content": b64([]byte("from JS\n"))},
	}}, &seeded)

	work := t.TempDir()
	out := filepath.Join(work, "out")
	c := startLive(t, "mirror", "--live", seeded.Key, out, "--storage", filepath.Join(work, "st"),
		"--connect", "127.0.0.1:"+strconv.Itoa(seeded.Port), "--json")
	c.waitFor("the first run", fileIs(filepath.Join(out, "readme.txt"), "from JS\n"))

	big := bytes.Repeat([]byte("0123456789abcdef"), 20_000) // several blocks
	steps := []struct {
		op, path string
		content  []byte
	}{
		{"put", "/later/one.txt", []byte("one")},
		{"put", "/later/big.bin", big},
		{"del", "/readme.txt", nil},
		{"put", "/later/one.txt", []byte("one, again")},
	}
	var version uint64
	for _, s := range steps {
		var res struct {
			Version uint64 `json:"version"`
		}
		call(map[string]any{"op": s.op, "path": s.path, "content": b64(s.content)}, &res)
		version = res.Version
		name := filepath.Join(out, filepath.FromSlash(s.path))
		if s.op == "del" {
			c.waitFor(s.op+" "+s.path, gone(name))
		} else {
			c.waitFor(s.op+" "+s.path, fileIs(name, string(s.content)))
		}
	}
	if err := c.stop(); err != nil {
		t.Fatalf("stopped: %v\n%s", err, c.stderr.String())
	}
	var runs []mirrorJSON
	for l := range strings.Lines(c.stdout.String()) {
		var m mirrorJSON
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		runs = append(runs, m)
	}
	if len(runs) != len(steps)+1 {
		t.Fatalf("%d runs, want %d:\n%s", len(runs), len(steps)+1, c.stdout.String())
	}
	if last := runs[len(runs)-1]; last.SourceVersion != version {
		t.Errorf("last run mirrored version %d, JS is at %d", last.SourceVersion, version)
	}
	for i, s := range steps {
		want := map[string]string{"put": "add", "del": "remove"}[s.op]
		if i == len(steps)-1 {
			want = "change"
		}
		if m := runs[i+1]; len(m.Changes) != 1 || m.Changes[0].Key != s.path || m.Changes[0].Op != want {
			t.Errorf("run %d: %+v, want %s %s", i+1, m.Changes, want, s.path)
		}
	}
}

// TestMirrorLiveServesDestination: mirror --live <folder> <key> --connect
// keeps replicating the destination drive with the peer, which sees each
// change as the mirror writes it (with hyperdrive.Watch on its replica).
func TestMirrorLiveServesDestination(t *testing.T) {
	work := t.TempDir()
	storage := filepath.Join(work, "writer")
	key := touch(t, storage)
	src := filepath.Join(work, "src")
	writeFile(t, filepath.Join(src, "a.txt"), "a")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := corestore.Open(ctx, filepath.Join(work, "peer"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	replica, err := hyperdrive.New(ctx, store, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	w, err := replica.Watch("/")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan *corestore.Replication, 1)
	go func() {
		defer close(accepted)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		if rep, err := store.Replicate(conn, false); err == nil {
			accepted <- rep
		} else {
			conn.Close()
		}
	}()
	defer func() {
		ln.Close()
		if rep := <-accepted; rep != nil {
			rep.Close()
		}
	}()

	c := startLive(t, "mirror", "--live", src, key.String(), "--storage", storage, "--connect", ln.Addr().String())
	c.waitOutput("✔ Total files: 1 (+1 -0 ~0) | Version: 2")
	// wantFile waits for the replica's watcher to report a version with
	// name holding content.
	wantFile := func(name, content string) {
		t.Helper()
		for {
			u, err := w.Next(ctx)
			if err != nil {
				t.Fatalf("waiting for %s on the peer: %v\n%s", name, err, c.stderr.String())
			}
			if b, err := u.Current.Get(ctx, name); err == nil && string(b) == content {
				return
			}
		}
	}
	wantFile("/a.txt", "a")
	writeFile(t, filepath.Join(src, "b.txt"), "bb")
	wantFile("/b.txt", "bb")
	if err := c.stop(); err != nil {
		t.Fatalf("stopped: %v\n%s", err, c.stderr.String())
	}
}
