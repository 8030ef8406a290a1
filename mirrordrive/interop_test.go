package mirrordrive_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
)

// jsOptions are mirror-drive options as the script takes them.
type jsOptions struct {
	Prefix        []string `json:"prefix,omitempty"`
	Prune         *bool    `json:"prune,omitempty"`
	DryRun        bool     `json:"dryRun,omitempty"`
	IncludeEquals bool     `json:"includeEquals,omitempty"`
	Batch         bool     `json:"batch,omitempty"`
	Entries       []string `json:"entries,omitempty"`
	Ignore        []string `json:"ignore,omitempty"`
	FilterExclude []string `json:"filterExclude,omitempty"`
}

// goOptions are the same options for Mirror.
func (o jsOptions) goOptions() *mirrordrive.Options {
	g := &mirrordrive.Options{
		Prefix:        o.Prefix,
		NoPrune:       o.Prune != nil && !*o.Prune,
		DryRun:        o.DryRun,
		IncludeEquals: o.IncludeEquals,
		Batch:         o.Batch,
		Entries:       o.Entries,
	}
	if o.Ignore != nil {
		g.Ignore = hyperdrive.IgnorePaths(o.Ignore...)
	}
	if o.FilterExclude != nil {
		g.Filter = func(key string) bool {
			return !slices.ContainsFunc(o.FilterExclude, func(s string) bool { return strings.Contains(key, s) })
		}
	}
	return g
}

type jsChange struct {
	Op           mirrordrive.Op `json:"op"`
	Key          string         `json:"key"`
	BytesRemoved uint64         `json:"bytesRemoved"`
	BytesAdded   uint64         `json:"bytesAdded"`
}

type jsResult struct {
	Changes      []jsChange                 `json:"changes"`
	Count        mirrordrive.Count          `json:"count"`
	BytesAdded   uint64                     `json:"bytesAdded"`
	BytesRemoved uint64                     `json:"bytesRemoved"`
	DstMetadata  map[string]json.RawMessage `json:"dstMetadata"`
}

// TestInteropMirror runs mirror-drive and Mirror on the same source and on
// identical destinations, and compares the changes, counts and results.
func TestInteropMirror(t *testing.T) {
	jsref.Require(t)
	src := filepath.Join(t.TempDir(), "src")
	build(t, src, srcTree())
	no := false

	tests := []struct {
		name                string
		opts                jsOptions
		srcMeta, dstMeta    map[string]json.RawMessage
		wantChanges, wantEq bool
	}{
		{name: "default"},
		{name: "dryRun", opts: jsOptions{DryRun: true}},
		{name: "noPrune", opts: jsOptions{Prune: &no}},
		{name: "prefix", opts: jsOptions{Prefix: []string{"/src", "/grown.txt", "/nothing", "links"}}},
		{name: "filter+includeEquals", opts: jsOptions{FilterExclude: []string{"big", "links"}, IncludeEquals: true}},
		{name: "ignore", opts: jsOptions{Ignore: []string{"/src/b", "/old", "big/blob.bin"}}},
		{name: "entries", opts: jsOptions{Entries: []string{"/same.txt", "/grown.txt", "/missing", "/links/changed"}, Prune: &no, IncludeEquals: true}},
		{name: "batch+dryRun+includeEquals", opts: jsOptions{Batch: true, DryRun: true, IncludeEquals: true}},
		{
			name: "metadata",
			opts: jsOptions{IncludeEquals: true},
			srcMeta: map[string]json.RawMessage{
				"/same.txt": json.RawMessage(`{"a":1,"b":[true,null]}`), "/empty": json.RawMessage(`0`),
				"/src/b/two.txt": json.RawMessage(`"new"`), "/mode.sh": json.RawMessage(`{"x":1}`),
			},
			dstMeta: map[string]json.RawMessage{
				"/same.txt": json.RawMessage(`{"b":[true,null],"a":1.0}`), "/empty": json.RawMessage(`false`),
				"/extra.txt": json.RawMessage(`"pruned"`), "/mode.sh": json.RawMessage(`{"x":2}`),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dstJS, dstGo := filepath.Join(t.TempDir(), "dst"), filepath.Join(t.TempDir(), "dst")
			build(t, dstJS, dstTree())
			build(t, dstGo, dstTree())

			var js jsResult
			jsref.JSON(t, map[string]any{"src": src, "dst": dstJS, "options": tt.opts,
				"srcMetadata": tt.srcMeta, "dstMetadata": tt.dstMeta}, &js, "mirrordrive/mirror.js")

			var srcOpts, dstOpts *localdrive.Options
			var dm *localdrive.MetadataMap
			if tt.srcMeta != nil {
				sm := localdrive.NewMetadataMap()
				for k, v := range tt.srcMeta {
					sm.Put(ctx, k, v)
				}
				dm = localdrive.NewMetadataMap()
				for k, v := range tt.dstMeta {
					dm.Put(ctx, k, v)
				}
				srcOpts, dstOpts = &localdrive.Options{Metadata: sm}, &localdrive.Options{Metadata: dm}
			}
			s, _ := localdrive.New(src, srcOpts)
			d, _ := localdrive.New(dstGo, dstOpts)
			res, err := mirrordrive.Mirror(ctx, s, d, tt.opts.goOptions())
			if err != nil {
				t.Fatal(err)
			}

			var got []jsChange
			for _, c := range res.Changes {
				got = append(got, jsChange{Op: c.Op, Key: c.Key, BytesRemoved: c.BytesRemoved, BytesAdded: c.BytesAdded})
			}
			if !slices.Equal(got, js.Changes) {
				t.Errorf("changes:\n Go %v\n JS %v", got, js.Changes)
			}
			if len(js.Changes) == 0 {
				t.Errorf("JS reports no changes; the scenario tests nothing")
			}
			if res.Count != js.Count || res.BytesAdded != js.BytesAdded || res.BytesRemoved != js.BytesRemoved {
				t.Errorf("Go count %+v +%d -%d; JS %+v +%d -%d", res.Count, res.BytesAdded, res.BytesRemoved,
					js.Count, js.BytesAdded, js.BytesRemoved)
			}
			goTree, jsTree := snapshot(t, mustNew(t, dstGo)), snapshot(t, mustNew(t, dstJS)) // metadata compared below
			if !slices.Equal(goTree, jsTree) {
				t.Errorf("destinations differ:\n Go %q\n JS %q", goTree, jsTree)
			}
			if dm != nil {
				gotMeta := map[string]any{}
				var all []string
				for _, m := range []map[string]json.RawMessage{tt.srcMeta, tt.dstMeta, js.DstMetadata} {
					for k := range m {
						all = append(all, k)
					}
				}
				for _, k := range all {
					if m, _ := dm.Get(ctx, k); m != nil {
						var v any
						json.Unmarshal(m, &v)
						gotMeta[k] = v
					}
				}
				wantMeta := map[string]any{}
				for k, m := range js.DstMetadata {
					var v any
					json.Unmarshal(m, &v)
					wantMeta[k] = v
				}
				if !reflect.DeepEqual(gotMeta, wantMeta) {
					t.Errorf("destination metadata: Go %v; JS %v", gotMeta, wantMeta)
				}
			}
		})
	}
}

func mustNew(t *testing.T, root string) *localdrive.Drive {
	d, err := localdrive.New(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
