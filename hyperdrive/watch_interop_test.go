package hyperdrive_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/internal/jsref"
)

// TestInteropWatchReplica: a JS writer (interop/hyperdrive/watch.js)
// writes inside and outside a folder of its drive, served over TCP; a Go
// replica's Watch of the folder reports each write inside it, at the
// writer's version, and none of those outside. JS's own drive.watch of
// the folder on the writer must report the same versions.
func TestInteropWatchReplica(t *testing.T) {
	jsref.Require(t)
	p := &drivePeer{t: t, p: jsref.Start(t, "hyperdrive/watch.js")}
	defer p.p.Send(map[string]any{"op": "close"})
	b64 := base64.StdEncoding.EncodeToString

	var seed struct {
		Key     string `json:"key"`
		Port    int    `json:"port"`
		Version uint64 `json:"version"`
	}
	p.call(map[string]any{"op": "seed", "folder": "/src", "files": []map[string]string{
		{"path": "/src/a.txt", "content": b64([]byte("a"))},
		{"path": "/readme.txt", "content": b64([]byte("outside"))},
	}}, &seed)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d := replicaOf(t, ctx, seed.Key, seed.Port, seed.Version)

	w, err := d.Watch("/src")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	type update struct {
		Current  uint64 `json:"current"`
		Previous uint64 `json:"previous"`
	}
	var got []update
	steps := []struct {
		op, path string
		inside   bool
	}{
		{"put", "/src/b.txt", true},
		{"put", "/other.txt", false},
		{"del", "/src/a.txt", true},
		{"put", "/src/sub/c.txt", true},
		{"put", "/srcx.txt", false},
		{"del", "/readme.txt", false},
		{"put", "/src/b.txt", true}, // new content, same name
	}
	for i, s := range steps {
		content := fmt.Sprintf("step %d", i)
		var res struct {
			Version uint64 `json:"version"`
		}
		p.call(map[string]any{"op": s.op, "path": s.path, "content": b64([]byte(content))}, &res)
		if !s.inside {
			// Once the replica has the write, its watcher must stay quiet.
			waitLength(t, ctx, d, res.Version)
			noUpdate(t, w, s.op+" "+s.path)
			continue
		}
		u := nextUpdate(t, w)
		if u.Current.Version() != res.Version {
			t.Fatalf("%s %s: update to version %d, JS is at %d", s.op, s.path, u.Current.Version(), res.Version)
		}
		got = append(got, update{u.Current.Version(), u.Previous.Version()})
		switch s.op {
		case "put":
			b, err := u.Current.Get(ctx, s.path)
			if err != nil || string(b) != content {
				t.Errorf("%s %s: the replica reads %q, %v", s.op, s.path, b, err)
			}
		case "del":
			if ok, err := u.Current.Exists(ctx, s.path); ok || err != nil {
				t.Errorf("%s %s: the replica still has it (%v)", s.op, s.path, err)
			}
			if ok, err := u.Previous.Exists(ctx, s.path); !ok || err != nil {
				t.Errorf("%s %s: the previous version lacks it (%v)", s.op, s.path, err)
			}
		}
	}

	var js struct {
		Updates []update `json:"updates"`
	}
	p.call(map[string]any{"op": "watched"}, &js)
	if fmt.Sprint(js.Updates) != fmt.Sprint(got) {
		t.Errorf("JS drive.watch yielded %v (current, previous), Go's Watch %v", js.Updates, got)
	}
}

// waitLength waits until the db core of d has at least n blocks.
func waitLength(t *testing.T, ctx context.Context, d *hyperdrive.Drive, n uint64) {
	t.Helper()
	for d.Core().Length() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("db core at length %d, want %d: %v", d.Core().Length(), n, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
