package hyperdrive_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
)

// The JS side of these tests is interop/hyperdrive/peer.js: hyperdrive
// 13.3.4 drives in corestore 7 stores, replicating over TCP on 127.0.0.1.
// A drive written on one side is fetched by the other over a real
// replication stream and mirrored (mirrordrive / mirror-drive) into a
// local folder (localdrive); every folder must be the tree JS's own
// mirror of its drive makes: the same names, contents, executable bits
// and link targets.

// replicateOps are the operations of the drive both sides write: nested
// folders, unicode names, links (absolute, relative, to a folder, dangling),
// executables, empty and multi-MB files, metadata, deletions and batches.
func replicateOps() []op {
	var ops []op
	for _, s := range driveSteps(true) {
		ops = append(ops, s.Ops...)
	}
	return append(ops,
		op{T: "put", Path: "/deep/er/and/deeper/empty.txt"},
		op{T: "put", Path: "/big/multi.bin", Size: 3<<20 + 17, Seed: 3, Pattern: "repeat"},
		op{T: "put", Path: "/big/odd.bin", Size: 6<<20 - 1, Seed: 11},
		op{T: "put", Path: "/ünïcödé/spaced name 🎉.txt", Size: 777, Seed: 12, Executable: true},
		op{T: "symlink", Path: "/links/dangling", Target: "/nowhere/at/all"},
		op{T: "put", Path: "/bin/tool", Size: 4096, Seed: 13, Executable: true, Metadata: json.RawMessage(`{"v":1}`)},
	)
}

// drivePeer is a peer.js process.
type drivePeer struct {
	t *testing.T
	p *jsref.Proc
}

func (j *drivePeer) call(cmd map[string]any, out any) {
	j.t.Helper()
	j.p.Send(cmd)
	var raw json.RawMessage
	j.p.Recv(&raw)
	var e struct{ Error string }
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		j.t.Fatalf("js %v: %s", cmd["op"], e.Error)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		j.t.Fatalf("js %v answered %.300s: %v", cmd["op"], raw, err)
	}
}

// tree describes the folder at root: one line per file, link and folder.
// Absolute link targets under root are made relative to it (localdrive
// stores a drive-absolute link as the file name under its root).
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		switch {
		case de.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if after, ok := strings.CutPrefix(target, root); ok {
				target = "<root>" + after
			}
			out[rel] = "link -> " + target
		case de.IsDir():
			out[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = fmt.Sprintf("file %v %d %x", info.Mode().Perm(), len(b), sha256.Sum256(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: missing %s (%s)", what, k, w)
		} else if g != w {
			t.Errorf("%s: %s is %s, want %s", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: extra %s (%s)", what, k, g)
		}
	}
}

// waitVersion waits until drive d is at version v: until its db core has
// a peer, then by asking peers for updates.
func waitVersion(t *testing.T, ctx context.Context, d *hyperdrive.Drive, v uint64) {
	t.Helper()
	core := d.Core()
	for core.Length() < v {
		if len(core.Peers()) == 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("drive at version %d, want %d: no peer: %v", core.Length(), v, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		if _, err := core.Update(ctx, nil); err != nil {
			t.Fatalf("update: %v", err)
		}
	}
}

func mirrorTo(t *testing.T, ctx context.Context, src mirrordrive.Drive, dir string) *mirrordrive.Result {
	t.Helper()
	dst, err := localdrive.New(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mirrordrive.Mirror(ctx, src, dst, nil)
	if err != nil {
		t.Fatalf("mirror: %v", err)
	}
	return res
}

func TestInteropReplicateMirror(t *testing.T) {
	jsref.Require(t)
	p := &drivePeer{t: t, p: jsref.Start(t, "hyperdrive/peer.js")}
	defer p.p.Send(map[string]any{"op": "close"})
	ops := replicateOps()

	// JS writes the drive and mirrors it into ref itself: the reference
	// tree for every other folder.
	ref := filepath.Join(t.TempDir(), "ref")
	var seed struct {
		Key     string `json:"key"`
		Port    int    `json:"port"`
		Version uint64 `json:"version"`
	}
	p.call(map[string]any{"op": "seed", "ops": ops, "dir": ref}, &seed)
	want := tree(t, ref)
	if len(want) < 20 {
		t.Fatalf("JS's reference tree has only %d entries: %v", len(want), want)
	}

	t.Run("GoMirrorsJS", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		d := replicaOf(t, ctx, seed.Key, seed.Port, seed.Version)

		dir := filepath.Join(t.TempDir(), "go")
		start := time.Now()
		res := mirrorTo(t, ctx, d, dir)
		t.Logf("Go mirrored JS's drive (version %d): %+v, %d bytes in %v", seed.Version, res.Count, res.BytesAdded, time.Since(start).Round(time.Millisecond))
		sameTree(t, "Go's mirror of JS's drive", tree(t, dir), want)
	})

	t.Run("JSMirrorsGo", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		// The drive is written in a corestore, closed, and the same
		// database opened again, which then serves the stored cores to
		// peers on demand.
		dir := t.TempDir()
		hs, err := corestore.Open(ctx, dir, &corestore.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		kp := hcrypto.KeyPairFromSeed([32]byte{4, 5, 6})
		d, err := hyperdrive.New(ctx, hs, hypercore.Key{}, &hyperdrive.Options{KeyPair: &kp})
		if err != nil {
			hs.Close()
			t.Fatal(err)
		}
		apply(t, d, ops)
		key, version := d.Key(), d.Version()
		local := filepath.Join(t.TempDir(), "local")
		mirrorTo(t, ctx, d, local)
		if err := errors.Join(d.Close(), hs.Close()); err != nil {
			t.Fatal(err)
		}
		sameTree(t, "Go's local mirror of its drive", tree(t, local), want)

		store, err := corestore.Open(ctx, dir, &corestore.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan struct{})
		go func() {
			defer close(served)
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				if _, err := store.Replicate(conn, false); err != nil {
					conn.Close()
				}
			}
		}()
		defer func() {
			ln.Close()
			<-served
		}()

		out := filepath.Join(t.TempDir(), "js")
		var js struct {
			Version uint64          `json:"version"`
			Count   json.RawMessage `json:"count"`
		}
		start := time.Now()
		p.call(map[string]any{"op": "mirror", "key": hex.EncodeToString(key[:]),
			"port": ln.Addr().(*net.TCPAddr).Port, "version": version, "dir": out}, &js)
		t.Logf("JS mirrored Go's drive (version %d): %s in %v", js.Version, js.Count, time.Since(start).Round(time.Millisecond))
		if js.Version != version {
			t.Errorf("JS mirrored version %d, Go's drive is at %d", js.Version, version)
		}
		sameTree(t, "JS's mirror of Go's drive", tree(t, out), want)
	})
}

// replicaOf opens a drive of key (hex) in a new store, replicating over
// TCP with the JS peer listening on port, once it reached version. The
// drive, store and connection close when the test ends.
func replicaOf(t *testing.T, ctx context.Context, key string, port int, version uint64) *hyperdrive.Drive {
	t.Helper()
	store, err := corestore.Open(ctx, t.TempDir(), &corestore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	kb, err := hex.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	d, err := hyperdrive.New(ctx, store, hypercore.Key(kb), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := store.Replicate(conn, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	waitVersion(t, ctx, d, version)
	return d
}
