package mirrordrive_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
)

var (
	_ mirrordrive.ConcurrentWriter = (*localdrive.Drive)(nil)
	_ mirrordrive.Preloader        = (*hyperdrive.Drive)(nil)
	_ mirrordrive.Preloader        = (*preloader)(nil)
)

// manyTree is srcTree with many more files, and links among them.
func manyTree() []node {
	nodes := srcTree()
	for i := range 200 {
		nodes = append(nodes, node{path: fmt.Sprintf("many/%d/%03d.txt", i%7, i), data: random(100+i*37, uint64(i))})
	}
	nodes = append(nodes,
		node{path: "many/3/link", link: "../4"},
		node{path: "many/5/zz-link", link: "ROOT/many/6"},
	)
	return nodes
}

// TestMirrorConcurrency checks that copying several files at once changes
// nothing a mirror reports or leaves behind.
func TestMirrorConcurrency(t *testing.T) {
	ctx := context.Background()
	var results [][]mirrordrive.Change
	for _, n := range []int{1, 2, 8, 64} {
		s, d := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst")
		build(t, s, manyTree())
		build(t, d, dstTree())
		src, _ := localdrive.New(s, nil)
		dst, _ := localdrive.New(d, nil)
		var progress []mirrordrive.Change
		res, err := mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{
			Concurrency: n,
			Progress:    func(c mirrordrive.Change) { progress = append(progress, c) },
		})
		if err != nil {
			t.Fatalf("concurrency %d: %v", n, err)
		}
		if !reflect.DeepEqual(progress, res.Changes) {
			t.Errorf("concurrency %d: Progress and Result differ", n)
		}
		// Listing order is the folder's, which differs between folders:
		// compare sorted.
		changes := slices.Clone(res.Changes)
		slices.SortFunc(changes, func(a, b mirrordrive.Change) int { return strings.Compare(a.Key, b.Key) })
		results = append(results, changes)
		if got, want := snapshot(t, dst), snapshot(t, src); !slices.Equal(got, want) {
			t.Errorf("concurrency %d: after the mirror:\n dst %q\n src %q", n, got, want)
		}
	}
	for i := 1; i < len(results); i++ {
		if !reflect.DeepEqual(results[i], results[0]) {
			t.Errorf("changes differ with concurrency:\n%v\n%v", results[i], results[0])
		}
	}
}

// TestMirrorOverlappingPrefixes visits keys twice: the second visit must
// see the first copy complete.
func TestMirrorOverlappingPrefixes(t *testing.T) {
	ctx := context.Background()
	src, dst := setup(t, nil, nil)
	res, err := mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{
		Prefix:      []string{"/big", "/big/blob.bin", "/src", "/src/a", "/big"},
		Concurrency: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	var copies []string
	for _, c := range res.Changes {
		if c.Op != mirrordrive.OpRemove {
			copies = append(copies, c.Key)
		}
	}
	slices.Sort(copies)
	if want := []string{"/big/blob.bin", "/src/a/one.txt", "/src/three.txt"}; !slices.Equal(copies, want) {
		t.Errorf("copied %v, want each key once: %v", copies, want)
	}
	data, err := os.ReadFile(filepath.Join(dst.Root(), "big", "blob.bin"))
	if err != nil || !slices.Equal(data, random(2<<20+7, 1)) {
		t.Errorf("/big/blob.bin: %d bytes, %v", len(data), err)
	}
}

// failing fails the write of one key, and records which writes were
// running at once.
type failing struct {
	*localdrive.Drive
	fail string

	mu           sync.Mutex
	running, max int
}

var errWrite = errors.New("write refused")

func (f *failing) CreateWriteStream(ctx context.Context, key string, opts *hyperdrive.PutOptions) (io.WriteCloser, error) {
	if key == f.fail {
		return nil, errWrite
	}
	w, err := f.Drive.CreateWriteStream(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.running++
	f.max = max(f.max, f.running)
	f.mu.Unlock()
	return &trackedWriter{WriteCloser: w, f: f}, nil
}

type trackedWriter struct {
	io.WriteCloser
	f *failing
}

func (w *trackedWriter) Close() error {
	w.f.mu.Lock()
	w.f.running--
	w.f.mu.Unlock()
	return w.WriteCloser.Close()
}

func (f *failing) Symlink(ctx context.Context, key, linkname string) error {
	f.mu.Lock()
	running := f.running
	f.mu.Unlock()
	if running != 0 {
		return fmt.Errorf("link %s made while %d files are being written", key, running)
	}
	return f.Drive.Symlink(ctx, key, linkname)
}

func TestMirrorConcurrentLinksAndErrors(t *testing.T) {
	ctx := context.Background()
	s := filepath.Join(t.TempDir(), "src")
	build(t, s, manyTree())
	src, _ := localdrive.New(s, nil)

	// Links are made alone.
	dst, _ := localdrive.New(t.TempDir(), nil)
	f := &failing{Drive: dst}
	if _, err := mirrordrive.Mirror(ctx, src, f, &mirrordrive.Options{Concurrency: 8}); err != nil {
		t.Fatal(err)
	}
	if f.max < 2 {
		t.Logf("at most %d files written at once", f.max)
	}

	// The first failed copy ends the mirror, with every copy started
	// finished.
	dst, _ = localdrive.New(t.TempDir(), nil)
	f = &failing{Drive: dst, fail: "/many/2/100.txt"}
	res, err := mirrordrive.Mirror(ctx, src, f, &mirrordrive.Options{Concurrency: 8})
	if !errors.Is(err, errWrite) {
		t.Fatalf("Mirror = %v, want %v", err, errWrite)
	}
	if f.running != 0 {
		t.Errorf("%d writes still running after Mirror returned", f.running)
	}
	if !slices.ContainsFunc(res.Changes, func(c mirrordrive.Change) bool { return c.Key == f.fail }) {
		t.Errorf("the failed change is not reported")
	}
}

// preloader is a localdrive source that records what a mirror preloads.
type preloader struct {
	*localdrive.Drive
	mu       sync.Mutex
	metadata int
	entries  []string
}

func (p *preloader) DownloadMetadata(ctx context.Context) error {
	p.mu.Lock()
	p.metadata++
	p.mu.Unlock()
	return nil
}

func (p *preloader) DownloadEntries(ctx context.Context, entries []*hyperdrive.Entry) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range entries {
		p.entries = append(p.entries, e.Key)
	}
	return nil
}

func TestMirrorPreload(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		prefix   []string
		metadata int
	}{
		{nil, 1},
		{[]string{"/"}, 1},
		{[]string{"/src", "/grown.txt"}, 0},
	} {
		src, dst := setup(t, nil, nil)
		p := &preloader{Drive: src}
		var calls sync.Map // key -> number of calls
		filter := func(key string) bool {
			n, _ := calls.LoadOrStore(key, new(int))
			*n.(*int)++
			return !strings.Contains(key, "three")
		}
		res, err := mirrordrive.Mirror(ctx, p, dst, &mirrordrive.Options{Prefix: tc.prefix, Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		if p.metadata != tc.metadata {
			t.Errorf("prefix %q: DownloadMetadata called %d times, want %d", tc.prefix, p.metadata, tc.metadata)
		}
		// Every file the copy pass visits, and only those (a dry run
		// lists them).
		var visited []string
		_, err = mirrordrive.Mirror(ctx, src, dst, &mirrordrive.Options{Prefix: tc.prefix, Filter: func(key string) bool {
			if !strings.Contains(key, "three") {
				if e, _ := src.Entry(ctx, key); e != nil && e.Value.Blob != nil {
					visited = append(visited, key)
				}
				return true
			}
			return false
		}, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(visited)
		slices.Sort(p.entries)
		if !slices.Equal(p.entries, visited) {
			t.Errorf("prefix %q: preloaded %v, want %v", tc.prefix, p.entries, visited)
		}
		calls.Range(func(k, v any) bool {
			if *v.(*int) != 1 {
				t.Errorf("prefix %q: filter called %d times for %s", tc.prefix, *v.(*int), k)
			}
			return true
		})
		if res.Count.Files == 0 {
			t.Errorf("prefix %q: nothing visited", tc.prefix)
		}
		// NoPreload: nothing is preloaded.
		src2, dst2 := setup(t, nil, nil)
		p2 := &preloader{Drive: src2}
		if _, err := mirrordrive.Mirror(ctx, p2, dst2, &mirrordrive.Options{Prefix: tc.prefix, NoPreload: true}); err != nil {
			t.Fatal(err)
		}
		if p2.metadata != 0 || len(p2.entries) != 0 {
			t.Errorf("NoPreload: preloaded %d, %v", p2.metadata, p2.entries)
		}
	}
}
