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
// # Preload and concurrency
//
// As in JS, a source that fetches from peers (a [Preloader]: hyperdrive)
// is preloaded: on a goroutine of its own the mirror lists the source and
// has it fetch the content of every entry to visit, while the passes
// proceed and read it as it arrives. A destination whose files are
// independent of each other (a [ConcurrentWriter]: localdrive) has up to
// [Options.Concurrency] files copied at once, not necessarily in the order
// they are reported: while a file is being created in a folder, files of
// other folders go first (file systems create the files of a folder one at
// a time). Changes are still reported one by one in the order above, each
// before it is applied; links, deletions and entry rewrites are applied
// alone, once every copy reported before them is complete, so that no
// write goes through a link made later, nor races with a deletion.
//
// # Differences from JS
//
// Progress is a callback or the returned list, not an async iterator; the
// JS monitor (download and upload speeds of a hyperdrive source), dedup and
// transformers are not here yet. An Entries list holds keys, not entry
// objects. In JS, an Entries key that the destination lacks makes the prune
// pass throw; here it is skipped. JS's preload fetches the content of
// block-map files only (a bug of mirror-drive 1.14.2); here it fetches
// every file's, and, when the whole drive is mirrored, the source's
// metadata first. JS copies one file at a time.
package mirrordrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"path"
	"reflect"
	"slices"
	"sync"

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

// Preloader is implemented by source drives whose entries and content may
// have to be fetched from peers (hyperdrive), for the preload (see the
// package documentation; Options.NoPreload turns it off). The mirror calls
// both methods on a goroutine of its own, while it goes on, and cancels
// their context when it ends; their errors are ignored, since the reads
// that need the data report them.
//
//   - DownloadMetadata fetches what listing the whole drive reads; it is
//     called first, when a prefix is the root and no Options.Entries are
//     given.
//   - DownloadEntries fetches the content of entries, in batches of the
//     entries the copy pass will visit, in order; a dry run skips it.
//
// Both return once what they fetch is stored, or ctx is done. While it
// preloads, the mirror opens the source's read streams with NoPrefetch:
// the preload fetches for them.
type Preloader interface {
	DownloadMetadata(ctx context.Context) error
	DownloadEntries(ctx context.Context, entries []*hyperdrive.Entry) error
}

// ConcurrentWriter is implemented by destinations whose files are
// independent of each other (localdrive: files in a folder), so that the
// mirror may copy several at once (see the package documentation). The
// drive must be safe for concurrent use; ConcurrentWrites returning false
// keeps the mirror to one file at a time.
type ConcurrentWriter interface {
	ConcurrentWrites() bool
}

// DefaultConcurrency is the number of files copied at once into a
// [ConcurrentWriter] when Options.Concurrency is 0.
const DefaultConcurrency = 4

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
	// It is called once for each key the copy pass visits, never
	// concurrently, but possibly on the preload's goroutine and before the
	// copy pass gets to the key (JS calls it twice then; here the preload
	// and the copy pass share each answer).
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
	// applied, in order, on the goroutine that called Mirror.
	Progress func(Change)
	// NoPreload turns off the preload of a [Preloader] source (JS
	// preload: false): content is then fetched as each file is read.
	NoPreload bool
	// Concurrency is the number of files copied at once into a
	// [ConcurrentWriter] destination; 0 means DefaultConcurrency, 1 one at
	// a time. Other destinations are written one file at a time.
	Concurrency int
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
// what it did, also when it fails part way (the changes so far, the last
// one, or with a [ConcurrentWriter] the last few, possibly not applied).
// When it returns, nothing it started is still running.
func Mirror(ctx context.Context, src, dst Drive, opts *Options) (*Result, error) {
	m := &mirror{src: src, dst: dst, res: new(Result)}
	if opts != nil {
		m.opts = *opts
	}
	if len(m.opts.Prefix) == 0 {
		m.opts.Prefix = []string{"/"}
	}
	if m.opts.Concurrency < 0 {
		return m.res, errors.New("mirrordrive: negative Concurrency")
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
	copies           *copier // nil: copies are made one at a time, inline
	// readOpts are the options of the source's read streams: with a
	// preload, reads do not fetch on their own.
	readOpts *hyperdrive.ReadOptions
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
	ctx, cancel := context.WithCancel(ctx)
	var preloading sync.WaitGroup
	defer preloading.Wait()
	defer cancel()
	filter := m.opts.Filter
	if p, ok := m.src.(Preloader); ok && !m.opts.NoPreload {
		if !m.opts.DryRun {
			m.readOpts = &hyperdrive.ReadOptions{NoPrefetch: true}
		}
		var shared *sharedFilter
		if filter != nil {
			shared = &sharedFilter{fn: filter, answers: make(map[string]bool)}
			filter = shared.answer
		}
		preloading.Add(1)
		go func() {
			defer preloading.Done()
			m.preload(ctx, p, shared)
		}()
	}

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

	if w, ok := m.dst.(ConcurrentWriter); ok && w.ConcurrentWrites() && !m.opts.DryRun {
		n := m.opts.Concurrency
		if n == 0 {
			n = DefaultConcurrency
		}
		if n > 1 {
			m.copies = newCopier(n)
			defer m.copies.close()
		}
	}
	if err := m.copyPass(ctx, filter); err != nil {
		if m.copies != nil {
			m.copies.wait()
		}
		return err
	}
	if m.copies != nil {
		if err := m.copies.wait(); err != nil {
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

// copyPass is the second pass: every source entry that passes the filter
// is compared with the destination's and copied when they differ.
func (m *mirror) copyPass(ctx context.Context, filter func(string) bool) error {
	for it, err := range m.walk(ctx, m.src, m.dst, filter) {
		if err != nil {
			return err
		}
		if it.a == nil {
			continue
		}
		if m.copies != nil {
			if err := m.copies.failed(); err != nil {
				return err
			}
			if m.copies.busy(it.key) {
				// The key came up again (prefixes that overlap) while its
				// copy is being made: look again once it is done.
				if err := m.copies.wait(); err != nil {
					return err
				}
				if it.b, err = m.dst.Entry(ctx, it.key); err != nil {
					return err
				}
			}
		}
		if err := m.copy(ctx, it.key, it.a, it.b); err != nil {
			return err
		}
	}
	return nil
}

// preload has a Preloader source fetch what the passes will read: its
// metadata when the whole drive is mirrored, then, unless this is a dry
// run, the content of the entries the copy pass visits, in batches.
// filter, when not nil, is the filter the copy pass shares.
func (m *mirror) preload(ctx context.Context, p Preloader, filter *sharedFilter) {
	var fn func(string) bool
	if filter != nil {
		defer filter.done()
		fn = filter.answer
	}
	if m.opts.Entries == nil && slices.ContainsFunc(m.opts.Prefix, func(p string) bool { return p == "/" || p == "" }) {
		if p.DownloadMetadata(ctx) != nil {
			return
		}
	}
	if m.opts.DryRun {
		return
	}
	const batch = 4096
	var entries []*hyperdrive.Entry
	for it, err := range m.walk(ctx, m.src, nil, fn) {
		if err != nil {
			return
		}
		if it.a == nil || it.a.Value.Blob == nil {
			continue
		}
		entries = append(entries, it.a)
		if len(entries) == batch {
			if p.DownloadEntries(ctx, entries) != nil {
				return
			}
			entries = entries[:0]
		}
	}
	if len(entries) > 0 {
		p.DownloadEntries(ctx, entries)
	}
}

// sharedFilter lets the preload and the copy pass, which walk the same
// keys in the same order, call Options.Filter once per key between them:
// whichever walk gets to a key first calls the filter, never at the same
// time as the other, and leaves the answer for the other walk.
type sharedFilter struct {
	fn func(string) bool

	mu       sync.Mutex
	answers  map[string]bool // answers the other walk has yet to take
	finished bool            // the preload is over: the copy pass is alone
}

// answer is the filter of either walk.
func (f *sharedFilter) answer(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok, found := f.answers[key]; found {
		delete(f.answers, key)
		return ok
	}
	ok := f.fn(key)
	if !f.finished {
		f.answers[key] = ok
	}
	return ok
}

// done ends the preload's part: new answers are no longer kept (those
// kept are still the copy pass's to take).
func (f *sharedFilter) done() {
	f.mu.Lock()
	f.finished = true
	f.mu.Unlock()
}

// copier makes the copies of file contents on n goroutines. Copies are
// handed over in the order they are reported, and wait in a window of up
// to window copies; a copy starts once a goroutine is free and no other
// copy is creating a file in its folder, so that it may start before one
// handed over earlier. File systems create the files of one folder one at
// a time, and creating one can be slow: copies in other folders go on
// meanwhile.
type copier struct {
	window int
	wg     sync.WaitGroup

	mu       sync.Mutex
	cond     sync.Cond // signalled on every change below
	pending  []*copyTask
	running  int
	creating map[string]bool // folders a running copy is creating its file in
	keys     map[string]bool // keys of the copies pending or running
	err      error           // the first copy that failed
	closed   bool
}

// copyTask is the copy of the file key (in folder dir); run calls created
// once the destination file exists.
type copyTask struct {
	key, dir string
	run      func(created func()) error
}

// newCopier starts n goroutines; close stops them.
func newCopier(n int) *copier {
	c := &copier{window: 8 * n, creating: make(map[string]bool), keys: make(map[string]bool)}
	c.cond.L = &c.mu
	c.wg.Add(n)
	for range n {
		go c.work()
	}
	return c
}

// add hands over the copy of key, waiting while the window is full. It
// returns the error of a copy that failed instead.
func (c *copier) add(key string, run func(created func()) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.err == nil && len(c.pending) >= c.window {
		c.cond.Wait()
	}
	if c.err != nil {
		return c.err
	}
	c.pending = append(c.pending, &copyTask{key: key, dir: path.Dir(key), run: run})
	c.keys[key] = true
	c.cond.Broadcast()
	return nil
}

// work runs copies until close.
func (c *copier) work() {
	defer c.wg.Done()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		t := c.nextLocked()
		if t == nil {
			if c.closed {
				return
			}
			c.cond.Wait()
			continue
		}
		c.creating[t.dir] = true
		c.running++
		c.mu.Unlock()
		var once sync.Once
		created := func() {
			once.Do(func() {
				c.mu.Lock()
				delete(c.creating, t.dir)
				c.cond.Broadcast()
				c.mu.Unlock()
			})
		}
		err := t.run(created)
		created()
		c.mu.Lock()
		c.running--
		delete(c.keys, t.key)
		if err != nil && c.err == nil {
			c.err = err
			c.dropLocked()
		}
		c.cond.Broadcast()
	}
}

// nextLocked takes the first pending copy whose folder no running copy is
// creating a file in; none once a copy failed.
func (c *copier) nextLocked() *copyTask {
	if c.err != nil {
		return nil
	}
	for i, t := range c.pending {
		if !c.creating[t.dir] {
			c.pending = slices.Delete(c.pending, i, i+1)
			return t
		}
	}
	return nil
}

// dropLocked forgets the pending copies: one failed, the mirror ends.
func (c *copier) dropLocked() {
	for _, t := range c.pending {
		delete(c.keys, t.key)
	}
	c.pending = nil
}

// busy reports whether a copy of key is pending or running.
func (c *copier) busy(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys[key]
}

// failed returns the error of the first copy that failed, if any.
func (c *copier) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// wait waits until every copy handed over is done, or until the running
// ones are after one failed, and returns failed().
func (c *copier) wait() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.running > 0 || (len(c.pending) > 0 && c.err == nil) {
		c.cond.Wait()
	}
	return c.err
}

// close stops the goroutines once the copies running are done; pending
// copies are dropped.
func (c *copier) close() {
	c.mu.Lock()
	c.closed = true
	if c.err == nil {
		c.err = errCopierClosed
	}
	c.dropLocked()
	c.cond.Broadcast()
	c.mu.Unlock()
	c.wg.Wait()
}

var errCopierClosed = errors.New("mirrordrive: copies stopped")

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

	if m.copies != nil {
		if a.Value.Linkname == "" && !onlyMetadata {
			return m.copies.add(key, func(created func()) error { return m.copyContent(ctx, key, a, created) })
		}
		// Anything but a copy is applied alone: after the copies before
		// it, before those after it.
		if err := m.copies.wait(); err != nil {
			return err
		}
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
		return m.copyContent(ctx, key, a, nil)
	}
}

// copyContent streams the source file a to key in the destination.
// created, when not nil, is called once the destination's write stream is
// open.
func (m *mirror) copyContent(ctx context.Context, key string, a *hyperdrive.Entry, created func()) error {
	r, err := m.src.CreateReadStream(ctx, a.Key, m.readOpts)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := m.dst.CreateWriteStream(ctx, key, &hyperdrive.PutOptions{
		Executable: a.Value.Executable,
		Metadata:   a.Value.Metadata,
	})
	if created != nil {
		created()
	}
	if err != nil {
		return err
	}
	if _, err := copyCtx(ctx, w, r); err != nil {
		if a, ok := w.(interface{ CloseWithError(error) error }); ok {
			a.CloseWithError(err)
		} else {
			w.Close()
		}
		return err
	}
	return w.Close()
}

// copyCtx copies r to w until EOF, or until ctx is done. A reader that
// is an io.WriterTo (a hyperdrive file) writes its blocks to w as they
// are, with no buffer between.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	if wt, ok := r.(io.WriterTo); ok {
		return wt.WriteTo(ctxWriter{ctx, w})
	}
	return io.CopyBuffer(w, ctxReader{ctx, r}, make([]byte, copyBuffer))
}

// copyBuffer is the buffer of a copy from a reader that is not an
// io.WriterTo: 64 KiB, the block size of hyperblobs and of JS file
// streams.
const copyBuffer = 64 << 10

// ctxWriter stops a copy when its context is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
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
	ra, err := m.src.CreateReadStream(ctx, a.Key, m.readOpts)
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
// Entries keys), passing filter, each with the entry of b at the same key
// (none when b is nil); then the prefix itself as a key, when either drive
// has it.
func (m *mirror) walk(ctx context.Context, a, b Drive, filter func(string) bool) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) {
		entryB := func(key string) (*hyperdrive.Entry, error) {
			if b == nil {
				return nil, nil
			}
			return b.Entry(ctx, key)
		}
		pair := func(key string) bool {
			ea, err := a.Entry(ctx, key)
			if err == nil {
				var eb *hyperdrive.Entry
				if eb, err = entryB(key); err == nil {
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
					eb, err := entryB(e.Key)
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
				eb, err := entryB(prefix)
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
