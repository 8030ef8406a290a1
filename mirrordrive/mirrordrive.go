// Package mirrordrive makes one drive a copy of another, compatible with
// the JavaScript module mirror-drive 1.14.2: the same walk, the same
// equality test, the same changes in the same order, the same counts.
//
// A drive is anything with the small [Drive] interface: a localdrive.Drive
// now, a hyperdrive.Drive when that package is complete.
//
// # What a mirror does
//
// [Mirror] first prunes: it lists the destination under each prefix and
// removes every entry the source does not have. Then it lists the source
// under each prefix and, for each entry that passes the filter, adds it to
// the destination or changes the destination's entry when the two differ.
// Each step is reported as a [Change], before it is applied, in this order.
// Two entries are the same when both are links to the same name, or when
// both are files of the same length and content, with the same executable
// bit and (when both drives support metadata) the same metadata.
//
// # Differences from JS
//
// Progress is a callback or the returned list, not an async iterator; the
// JS monitor (download and upload speeds of a hyperdrive source), preload,
// dedup and transformers are not here yet. An Entries list holds keys, not
// entry objects. In JS, an Entries key that the destination lacks makes the
// prune pass throw; here it is skipped.
package mirrordrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"reflect"

	"github.com/gopear/gopear/hyperdrive"
)

// Drive is what a mirror needs of a source or destination drive. A source
// is only read (Entry, List, CreateReadStream); a destination is also
// written. Keys are drive paths ("/a/b.txt"). Entry returns nil and a nil
// error when key has no entry; List yields entries under folder, recursively,
// hiding the keys opts.Ignore matches.
//
// A drive may also have the optional methods of [MetadataSupporter],
// [EntryPutter], [BlobSizer] and [Flusher]. A write stream may implement
// CloseWithError(error) error to abandon a write when the copy fails (as
// io.PipeWriter does); otherwise it is closed.
type Drive interface {
	Entry(ctx context.Context, key string) (*hyperdrive.Entry, error)
	List(ctx context.Context, folder string, opts *hyperdrive.ListOptions) iter.Seq2[*hyperdrive.Entry, error]
	CreateReadStream(ctx context.Context, key string, opts *hyperdrive.ReadOptions) (io.ReadCloser, error)
	CreateWriteStream(ctx context.Context, key string, opts *hyperdrive.PutOptions) (io.WriteCloser, error)
	Symlink(ctx context.Context, key, linkname string) error
	Del(ctx context.Context, key string) error
}

// MetadataSupporter is implemented by drives that may store metadata (JS
// supportsMetadata). Metadata is compared only when both drives report true;
// a drive without the method supports none.
type MetadataSupporter interface {
	SupportsMetadata() bool
}

// EntryPutter is implemented by drives that can store an entry value
// without content (JS putEntry, hyperdrive). When only the executable bit or
// metadata differ and the destination is an EntryPutter, the mirror rewrites
// the entry, keeping the destination's blob, instead of copying the content;
// the change then counts no bytes.
type EntryPutter interface {
	PutEntry(ctx context.Context, key string, value hyperdrive.EntryValue) error
}

// BlobSizer is implemented by drives whose blobs may be block maps
// (hyperblobs blockMap): it returns the content length of such a blob.
type BlobSizer interface {
	BlobByteLength(ctx context.Context, blob hyperdrive.BlobID) (uint64, error)
}

// Flusher is implemented by destinations that buffer writes. With
// Options.Batch, the mirror calls Flush at the end.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Options configure a mirror. A nil *Options gives the defaults of JS: the
// whole drive, pruned, applied.
type Options struct {
	// Prefix lists the folders (or single files) to mirror, each walked in
	// turn; nil or empty means ["/"]. A prefix other than "/" is also tried as a file
	// key of its own, after its folder, under the name given here.
	Prefix []string
	// NoPrune keeps destination entries that the source lacks (JS
	// prune: false). By default they are removed.
	NoPrune bool
	// DryRun reports the changes without applying them.
	DryRun bool
	// IncludeEquals also reports entries that are already the same, as
	// changes with Op OpEqual.
	IncludeEquals bool
	// Filter, when not nil, skips the source keys for which it returns
	// false. As in JS it applies to the copy pass only: pruning ignores it.
	Filter func(key string) bool
	// Ignore, when not nil, hides keys (and, for drives that walk folders,
	// whole folders) from both listings; see hyperdrive.IgnorePaths for the
	// function JS makes of a list of paths.
	Ignore func(key string) bool
	// MetadataEquals, when not nil, replaces the metadata comparison. Its
	// arguments are nil for no metadata.
	MetadataEquals func(a, b json.RawMessage) bool
	// Batch calls the destination's Flush (see [Flusher]) when the mirror
	// completes. Pass a batch of the destination as dst to batch the writes.
	Batch bool
	// Entries, when not nil, replaces each listing: the mirror visits these
	// keys under every prefix, in both passes.
	Entries []string
	// Progress, when not nil, is called with each change before it is
	// applied, in order.
	Progress func(Change)
}

// Op is the kind of a [Change].
type Op string

// The operations a mirror reports, spelled as in JS.
const (
	OpAdd    Op = "add"    // the key is new in the destination
	OpChange Op = "change" // the destination's entry is replaced
	OpRemove Op = "remove" // the key is removed from the destination (prune)
	OpEqual  Op = "equal"  // nothing to do (reported with IncludeEquals)
)

// Change is one step of a mirror, as JS yields it: { op, key, bytesRemoved,
// bytesAdded }.
type Change struct {
	Op  Op
	Key string
	// BytesAdded is the length of the source's content written.
	BytesAdded uint64
	// BytesRemoved is the length of the destination's content replaced or
	// removed.
	BytesRemoved uint64
}

// Count counts what a mirror did, as JS's mirror.count.
type Count struct {
	// Files is the number of source entries visited in the copy pass.
	Files int
	// Add, Remove and Change count the changes of each kind.
	Add, Remove, Change int
}

// Result is the outcome of a mirror.
type Result struct {
	Count Count
	// BytesAdded and BytesRemoved sum the changes' bytes (JS bytesAdded,
	// bytesRemoved).
	BytesAdded, BytesRemoved uint64
	// Changes lists every change reported, in order.
	Changes []Change
}

// Mirror makes dst a copy of src; see the package documentation. It returns
// what it did, also when it fails part way (the changes so far, the last one
// possibly not applied).
func Mirror(ctx context.Context, src, dst Drive, opts *Options) (*Result, error) {
	m := &mirror{src: src, dst: dst, res: new(Result)}
	if opts != nil {
		m.opts = *opts
	}
	if len(m.opts.Prefix) == 0 {
		m.opts.Prefix = []string{"/"}
	}
	m.srcMeta = supportsMetadata(src)
	m.dstMeta = supportsMetadata(dst)
	err := m.run(ctx)
	return m.res, err
}

type mirror struct {
	src, dst         Drive
	opts             Options
	srcMeta, dstMeta bool
	res              *Result
}

func supportsMetadata(d Drive) bool {
	s, ok := d.(MetadataSupporter)
	return ok && s.SupportsMetadata()
}

func (m *mirror) report(c Change) {
	m.res.Changes = append(m.res.Changes, c)
	if m.opts.Progress != nil {
		m.opts.Progress(c)
	}
}

func (m *mirror) run(ctx context.Context) error {
	if !m.opts.NoPrune {
		for it, err := range m.walk(ctx, m.dst, m.src, nil) {
			if err != nil {
				return err
			}
			if it.b != nil || it.a == nil {
				continue
			}
			removed, err := blobLength(ctx, m.dst, it.a)
			if err != nil {
				return err
			}
			m.res.Count.Remove++
			m.res.BytesRemoved += removed
			m.report(Change{Op: OpRemove, Key: it.key, BytesRemoved: removed})
			if !m.opts.DryRun {
				if err := m.dst.Del(ctx, it.key); err != nil {
					return err
				}
			}
		}
	}

	for it, err := range m.walk(ctx, m.src, m.dst, m.opts.Filter) {
		if err != nil {
			return err
		}
		if it.a == nil {
			continue
		}
		if err := m.copy(ctx, it.key, it.a, it.b); err != nil {
			return err
		}
	}

	if m.opts.Batch {
		if f, ok := m.dst.(Flusher); ok {
			return f.Flush(ctx)
		}
	}
	return nil
}

// similarity is the outcome of comparing two entries.
type similarity int

const (
	same     similarity = iota
	diff                // content (or link) differs
	diffMeta            // content is equal, the executable bit or metadata differ
)

// copy compares and, if they differ, copies the source entry a to key.
func (m *mirror) copy(ctx context.Context, key string, a, b *hyperdrive.Entry) error {
	m.res.Count.Files++
	s, err := m.compare(ctx, a, b)
	if err != nil {
		return err
	}
	if s == same {
		if m.opts.IncludeEquals {
			m.report(Change{Op: OpEqual, Key: key})
		}
		return nil
	}
	putter, _ := m.dst.(EntryPutter)
	onlyMetadata := s == diffMeta && putter != nil

	if b != nil {
		var removed, added uint64
		if !onlyMetadata {
			if removed, err = blobLength(ctx, m.dst, b); err != nil {
				return err
			}
			if added, err = blobLength(ctx, m.src, a); err != nil {
				return err
			}
		}
		m.res.Count.Change++
		m.res.BytesRemoved += removed
		m.res.BytesAdded += added
		m.report(Change{Op: OpChange, Key: key, BytesRemoved: removed, BytesAdded: added})
	} else {
		added, err := blobLength(ctx, m.src, a)
		if err != nil {
			return err
		}
		m.res.Count.Add++
		m.res.BytesAdded += added
		m.report(Change{Op: OpAdd, Key: key, BytesAdded: added})
	}
	if m.opts.DryRun {
		return nil
	}

	switch {
	case a.Value.Linkname != "":
		return m.dst.Symlink(ctx, key, a.Value.Linkname)
	case onlyMetadata:
		return putter.PutEntry(ctx, key, hyperdrive.EntryValue{
			Executable: a.Value.Executable,
			Linkname:   a.Value.Linkname,
			Blob:       b.Value.Blob,
			Metadata:   a.Value.Metadata,
		})
	default:
		return m.copyContent(ctx, key, a)
	}
}

// copyContent streams the source file a to key in the destination.
func (m *mirror) copyContent(ctx context.Context, key string, a *hyperdrive.Entry) error {
	r, err := m.src.CreateReadStream(ctx, a.Key, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := m.dst.CreateWriteStream(ctx, key, &hyperdrive.PutOptions{
		Executable: a.Value.Executable,
		Metadata:   a.Value.Metadata,
	})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, ctxReader{ctx, r}); err != nil {
		if a, ok := w.(interface{ CloseWithError(error) error }); ok {
			a.CloseWithError(err)
		} else {
			w.Close()
		}
		return err
	}
	return w.Close()
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// compare is JS's same(): are the source entry a and destination entry b
// the same?
func (m *mirror) compare(ctx context.Context, a, b *hyperdrive.Entry) (similarity, error) {
	if b == nil {
		return diff, nil
	}
	if a.Value.Linkname != "" || b.Value.Linkname != "" {
		if a.Value.Linkname == b.Value.Linkname {
			return same, nil
		}
		return diff, nil
	}
	if !maybeEquals(a, b) {
		return diff, nil
	}
	eq, err := m.contentEquals(ctx, a, b)
	if err != nil {
		return diff, err
	}
	ifEqual := diff
	if eq {
		ifEqual = diffMeta
	}
	if a.Value.Executable != b.Value.Executable {
		return ifEqual, nil
	}
	if !m.metadataEquals(a, b) {
		return ifEqual, nil
	}
	if eq {
		return same, nil
	}
	return diff, nil
}

// maybeEquals is the cheap test before reading content: both blobs absent,
// or both present with the same length (or a block map, whose length says
// nothing).
func maybeEquals(a, b *hyperdrive.Entry) bool {
	ab, bb := a.Value.Blob, b.Value.Blob
	if ab == nil && bb == nil {
		return true
	}
	if ab == nil || bb == nil {
		return false
	}
	if ab.BlockMap || bb.BlockMap {
		return true
	}
	return ab.ByteLength == bb.ByteLength
}

// contentEquals compares the contents of a (in the source) and b (in the
// destination), as binary-stream-equals.
func (m *mirror) contentEquals(ctx context.Context, a, b *hyperdrive.Entry) (bool, error) {
	ra, err := m.src.CreateReadStream(ctx, a.Key, nil)
	if err != nil {
		return false, err
	}
	defer ra.Close()
	rb, err := m.dst.CreateReadStream(ctx, b.Key, nil)
	if err != nil {
		return false, err
	}
	defer rb.Close()
	return readersEqual(ctxReader{ctx, ra}, ctxReader{ctx, rb})
}

// readersEqual reports whether a and b yield the same bytes.
func readersEqual(a, b io.Reader) (bool, error) {
	const chunk = 64 << 10
	bufA, bufB := make([]byte, chunk), make([]byte, chunk)
	for {
		na, errA := io.ReadFull(a, bufA)
		nb, errB := io.ReadFull(b, bufB)
		if errA != nil && !isEOF(errA) {
			return false, errA
		}
		if errB != nil && !isEOF(errB) {
			return false, errB
		}
		if !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false, nil
		}
		if errA != nil || errB != nil { // one ended: equal only if both did
			return errA != nil && errB != nil, nil
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// metadataEquals is JS's metadataEquals: metadata counts only when both
// drives support it; then the Options function decides, or else both are
// "falsy" (null, false, 0, "") or both are deeply equal JSON values.
func (m *mirror) metadataEquals(a, b *hyperdrive.Entry) bool {
	if !m.srcMeta || !m.dstMeta {
		return true
	}
	ma, mb := nilIfNull(a.Value.Metadata), nilIfNull(b.Value.Metadata)
	if m.opts.MetadataEquals != nil {
		return m.opts.MetadataEquals(ma, mb)
	}
	va, okA := decodeJSON(ma)
	vb, okB := decodeJSON(mb)
	fa, fb := !okA || falsy(va), !okB || falsy(vb)
	if fa && fb {
		return true
	}
	return !fa && !fb && reflect.DeepEqual(va, vb)
}

func nilIfNull(m json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(m)) == 0 || bytes.Equal(bytes.TrimSpace(m), []byte("null")) {
		return nil
	}
	return m
}

// decodeJSON decodes metadata; ok is false for none (or for text that is not
// JSON, which no JS drive can hold).
func decodeJSON(m json.RawMessage) (v any, ok bool) {
	if m == nil {
		return nil, false
	}
	if err := json.Unmarshal(m, &v); err != nil {
		return nil, false
	}
	return v, true
}

// falsy reports whether a decoded JSON value is falsy in JS.
func falsy(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case float64:
		return v == 0
	case string:
		return v == ""
	}
	return false
}

// blobLength is the content length of an entry: 0 for a link, the blob's
// length, or for a block-map blob what the drive says it is.
func blobLength(ctx context.Context, d Drive, e *hyperdrive.Entry) (uint64, error) {
	blob := e.Value.Blob
	if blob == nil {
		return 0, nil
	}
	if !blob.BlockMap {
		return blob.ByteLength, nil
	}
	s, ok := d.(BlobSizer)
	if !ok {
		return 0, errors.New("mirrordrive: block-map blob in a drive that cannot size it")
	}
	return s.BlobByteLength(ctx, *blob)
}

// item is one step of a walk: a key with its entries in the listed drive
// (a) and the other drive (b, nil when there is no other).
type item struct {
	key  string
	a, b *hyperdrive.Entry
}

// walk is JS's _list: for each prefix, the entries of a under it (or the
// Entries keys), passing filter, each with the entry of b at the same key;
// then the prefix itself as a key, when either drive has it.
func (m *mirror) walk(ctx context.Context, a, b Drive, filter func(string) bool) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) {
		pair := func(key string) bool {
			ea, err := a.Entry(ctx, key)
			if err == nil {
				var eb *hyperdrive.Entry
				if eb, err = b.Entry(ctx, key); err == nil {
					return yield(item{key: key, a: ea, b: eb}, nil)
				}
			}
			yield(item{}, err)
			return false
		}
		for _, prefix := range m.opts.Prefix {
			if m.opts.Entries != nil {
				for _, key := range m.opts.Entries {
					if filter != nil && !filter(key) {
						continue
					}
					if !pair(key) {
						return
					}
				}
			} else {
				for e, err := range a.List(ctx, prefix, &hyperdrive.ListOptions{Ignore: m.opts.Ignore}) {
					if err != nil {
						yield(item{}, err)
						return
					}
					if filter != nil && !filter(e.Key) {
						continue
					}
					eb, err := b.Entry(ctx, e.Key)
					if err != nil {
						yield(item{}, err)
						return
					}
					if !yield(item{key: e.Key, a: e, b: eb}, nil) {
						return
					}
				}
			}
			if prefix != "/" && (filter == nil || filter(prefix)) {
				ea, err := a.Entry(ctx, prefix)
				if err != nil {
					yield(item{}, err)
					return
				}
				eb, err := b.Entry(ctx, prefix)
				if err != nil {
					yield(item{}, err)
					return
				}
				if ea == nil && eb == nil {
					continue
				}
				if !yield(item{key: prefix, a: ea, b: eb}, nil) {
					return
				}
			}
		}
	}
}
