package hyperdrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"sync"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hyperbee"
	"github.com/gopear/gopear/hyperblobs"
	"github.com/gopear/gopear/hypercore"
)

// Errors of a drive, besides [ErrInvalidPath].
var (
	// ErrNotFound is returned when a path has no entry (or, where content
	// is wanted, an entry without content: a symbolic link). It matches
	// fs.ErrNotExist.
	ErrNotFound = fmt.Errorf("hyperdrive: entry not found: %w", fs.ErrNotExist)
	// ErrCorrupt marks an entry whose stored value is not an entry value.
	ErrCorrupt = errors.New("hyperdrive: corrupt entry")
	// ErrReadOnly is returned by writes to a checkout or to a drive whose
	// core is not writable here.
	ErrReadOnly = errors.New("hyperdrive: drive is read-only")
	// ErrNoBlobs is returned when the blobs core cannot be found: a compat
	// (manifest version 0) drive whose header names no content feed.
	ErrNoBlobs = errors.New("hyperdrive: no blobs core")
	// ErrRecursiveSymlink is returned when following links takes more
	// than 16 steps (JS "Recursive symlink").
	ErrRecursiveSymlink = errors.New("hyperdrive: recursive symlink")
)

// Store opens the cores of a drive: its db core and its blobs core.
// *hypercore.Store satisfies it. A store that also has
//
//	CreateKeyPair(name string) hcrypto.KeyPair
//
// (as a corestore does) gives a new drive the key pair of the core named
// "db", as JS's new Hyperdrive(store) does.
type Store interface {
	Open(ctx context.Context, opts *hypercore.Options) (*hypercore.Core, error)
}

type keyPairCreator interface {
	CreateKeyPair(name string) hcrypto.KeyPair
}

// Options configure [New]. A nil *Options means the defaults.
type Options struct {
	// KeyPair is the db core's writer: for a new drive (key zero) the key
	// pair of its db core, for an existing one what makes it writable
	// here. nil: a new drive takes the store's "db" key pair (see
	// [Store]) or a fresh one.
	KeyPair *hcrypto.KeyPair
	// EncryptionKey encrypts the blocks of both cores (JS encryptionKey).
	EncryptionKey []byte
	// CacheSize is the hyperbee block cache (hyperbee.Options.CacheSize).
	CacheSize int
}

// shared is what a drive and its checkouts and batches share.
type shared struct {
	store  Store
	db     *hypercore.Core
	root   *hyperbee.Bee
	opts   Options
	ctx    context.Context // the drive's lifetime: cancelled by Close
	cancel context.CancelFunc

	mu        sync.Mutex
	blobs     *hyperblobs.Blobs // nil until found
	blobsCore *hypercore.Core
	closed    bool
}

// Drive is a hyperdrive: a file system whose entries are in a hyperbee
// on the db core and whose file contents are blobs in the blobs core,
// format-compatible with hyperdrive 13.3.4. [New] returns the live drive;
// [Drive.Checkout] a read-only view of a version, [Drive.Batch] a batch of
// writes.
//
// A Drive is safe for concurrent use.
type Drive struct {
	sh       *shared
	bee      *hyperbee.Bee // the bee (or a checkout of it)
	files    *hyperbee.Bee // its "files" sub
	checkout bool
}

// New opens the drive whose db core has key, in store; the zero key
// makes a new drive (see [Options.KeyPair]). The blobs core is found as
// JS finds it (PROTOCOLS.md §7.3): from the header's contentFeed, else
// derived from the db core's manifest; a writable drive creates it. When
// the drive's header is not stored locally yet (a drive being fetched from
// peers), the blobs core is opened at its first use instead.
//
// The drive does not own store: Close closes the drive's cores only.
func New(ctx context.Context, store Store, key hypercore.Key, opts *Options) (*Drive, error) {
	if opts == nil {
		opts = &Options{}
	}
	copts := &hypercore.Options{Key: key, KeyPair: opts.KeyPair, EncryptionKey: opts.EncryptionKey}
	if key == (hypercore.Key{}) && opts.KeyPair == nil {
		if kc, ok := store.(keyPairCreator); ok {
			kp := kc.CreateKeyPair("db")
			copts.KeyPair = &kp
		}
	}
	db, err := store.Open(ctx, copts)
	if err != nil {
		return nil, fmt.Errorf("hyperdrive: opening the db core: %w", err)
	}
	d := newDrive(store, db, *opts)
	if db.Writable() || db.Length() > 0 {
		if _, err := d.getBlobs(ctx, true); err != nil && !errors.Is(err, hypercore.ErrNotAvailable) {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

func newDrive(store Store, db *hypercore.Core, opts Options) *Drive {
	bee := hyperbee.New(db, &hyperbee.Options{Metadata: &hyperbee.Metadata{}, CacheSize: opts.CacheSize})
	sh := &shared{store: store, db: db, root: bee, opts: opts}
	sh.ctx, sh.cancel = context.WithCancel(context.Background())
	return &Drive{sh: sh, bee: bee, files: bee.Sub([]byte("files"))}
}

// blobsNS is NS_BLOBS of hyperdrive: hcrypto.Namespace("hyperdrive", 1)[0].
var blobsNS = hcrypto.Namespace("hyperdrive", 1)[0]

// ContentManifest returns the manifest of the blobs core of the drive
// whose db core has manifest m and key key (JS
// Hyperdrive.getContentManifest): m with each signer's namespace replaced
// by BLAKE2b-256(NS_BLOBS ‖ key ‖ namespace), and no prologue, links or
// user data. It returns nil for a version 0 (compat) manifest, whose
// drive names its blobs core in the header instead.
func ContentManifest(m *hypercore.Manifest, key hypercore.Key) *hypercore.Manifest {
	if m == nil || m.Version < 1 {
		return nil
	}
	c := &hypercore.Manifest{Version: m.Version, Quorum: m.Quorum, AllowPatch: m.AllowPatch}
	for _, s := range m.Signers {
		c.Signers = append(c.Signers, hypercore.Signer{
			Namespace: hcrypto.Hash(blobsNS[:], key[:], s.Namespace[:]),
			PublicKey: s.PublicKey,
		})
	}
	return c
}

// getBlobs returns the blob store, opening its core on first use. With
// noWait it does not wait for the header (it returns an error wrapping
// hypercore.ErrNotAvailable when the header is not stored).
func (d *Drive) getBlobs(ctx context.Context, noWait bool) (*hyperblobs.Blobs, error) {
	sh := d.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return nil, hypercore.ErrClosed
	}
	if sh.blobs != nil {
		return sh.blobs, nil
	}
	db := sh.db
	var contentKey []byte
	if db.Length() > 0 || !db.Writable() {
		raw, err := db.Get(ctx, 0, &hypercore.GetOptions{NoWait: noWait})
		if err != nil {
			return nil, fmt.Errorf("hyperdrive: reading the header: %w", err)
		}
		h, err := hyperbee.New(&headerCore{raw}, nil).GetHeader(ctx)
		if err != nil {
			return nil, fmt.Errorf("hyperdrive: reading the header: %w", err)
		}
		if h.Metadata != nil && len(h.Metadata.ContentFeed) >= 32 {
			contentKey = h.Metadata.ContentFeed[:32]
		}
	}
	o := &hypercore.Options{EncryptionKey: sh.opts.EncryptionKey}
	if contentKey != nil {
		o.Key = hypercore.Key(contentKey)
	} else {
		m := ContentManifest(db.Manifest(), db.Key())
		if m == nil {
			return nil, ErrNoBlobs
		}
		o.Manifest = m
		if db.Writable() {
			o.KeyPair = db.KeyPair()
		}
	}
	core, err := sh.store.Open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("hyperdrive: opening the blobs core: %w", err)
	}
	blobs, err := hyperblobs.New(core, nil)
	if err != nil {
		core.Close()
		return nil, err
	}
	sh.blobs, sh.blobsCore = blobs, core
	return blobs, nil
}

// headerCore serves a header block to hyperbee's header decoder.
type headerCore struct{ b []byte }

func (h *headerCore) Get(context.Context, uint64, *hypercore.GetOptions) ([]byte, error) {
	return h.b, nil
}
func (h *headerCore) Append(context.Context, ...[]byte) (hypercore.AppendResult, error) {
	return hypercore.AppendResult{}, ErrReadOnly
}
func (h *headerCore) Length() uint64 { return 1 }
func (h *headerCore) Writable() bool { return false }

// Blobs returns the drive's blob store, opening the blobs core if needed
// (waiting for the drive's header from peers if it is not stored).
func (d *Drive) Blobs(ctx context.Context) (*hyperblobs.Blobs, error) { return d.getBlobs(ctx, false) }

// Core returns the db core.
func (d *Drive) Core() *hypercore.Core { return d.sh.db }

// Bee returns the hyperbee of the drive's metadata (at the drive's
// version for a checkout).
func (d *Drive) Bee() *hyperbee.Bee { return d.bee }

// Key returns the drive's key: the db core's key.
func (d *Drive) Key() hypercore.Key { return d.sh.db.Key() }

// DiscoveryKey returns the db core's discovery key.
func (d *Drive) DiscoveryKey() hypercore.Key { return d.sh.db.DiscoveryKey() }

// ContentKey returns the blobs core's key, and false while the blobs core
// is not open.
func (d *Drive) ContentKey() (hypercore.Key, bool) {
	d.sh.mu.Lock()
	defer d.sh.mu.Unlock()
	if d.sh.blobsCore == nil {
		return hypercore.Key{}, false
	}
	return d.sh.blobsCore.Key(), true
}

// Version returns the drive's version: its bee's version (the db core's
// length, at least 1).
func (d *Drive) Version() uint64 { return d.bee.Version() }

// Writable reports whether the drive can be written here.
func (d *Drive) Writable() bool { return !d.checkout && d.sh.db.Writable() }

// SupportsMetadata reports true: entries carry metadata (mirrordrive).
func (d *Drive) SupportsMetadata() bool { return true }

// Close closes the drive's cores (the live drive) or does nothing (a
// checkout or batch view). It is idempotent.
func (d *Drive) Close() error {
	if d.checkout {
		return nil
	}
	sh := d.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return nil
	}
	sh.closed = true
	sh.cancel()
	var errs []error
	if sh.blobsCore != nil {
		errs = append(errs, sh.blobsCore.Close())
	}
	errs = append(errs, sh.root.Close(), sh.db.Close())
	return errors.Join(errs...)
}

// Checkout returns a read-only view of the drive at version (JS
// checkout). Version 0 means 1, the empty drive. It shares the drive's
// cores: closing it does nothing, closing the drive ends it.
func (d *Drive) Checkout(version uint64) *Drive {
	bee := d.sh.root.Checkout(version)
	return &Drive{sh: d.sh, bee: bee, files: bee.Sub([]byte("files")), checkout: true}
}

// Snapshot returns a checkout of the current version.
func (d *Drive) Snapshot() *Drive { return d.Checkout(d.Version()) }

// decodeEntry turns a bee entry of the files sub into a drive entry.
func decodeEntry(e hyperbee.Entry) (*Entry, error) {
	v, err := DecodeEntryValue(e.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %q (seq %d): %w", ErrCorrupt, e.Key, e.Seq, err)
	}
	return &Entry{Key: string(e.Key), Seq: e.Seq, Value: v}, nil
}

// DecodeEntryValue decodes a stored entry value: the JSON object
// hyperdrive writes ({"executable", "linkname", "blob", "metadata"}).
// Anything but an object (a JS put of null included) is an error.
func DecodeEntryValue(b []byte) (EntryValue, error) {
	if v, ok := decodeCanonical(b); ok {
		return v, nil
	}
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return EntryValue{}, errors.New("not a JSON object")
	}
	var v EntryValue
	if err := json.Unmarshal(b, &v); err != nil {
		return EntryValue{}, err
	}
	return v, nil
}

// EncodeEntryValue returns v as hyperdrive stores it: the bytes JS's
// JSON.stringify gives for the same value (metadata included, re-encoded
// as JSON.stringify(JSON.parse(metadata)) would).
func EncodeEntryValue(v EntryValue) ([]byte, error) { return encodeValue(v) }

// Entry returns the entry of name, or nil and no error when there is
// none (JS entry). name is normalised by [NormalizePath].
func (d *Drive) Entry(ctx context.Context, name string) (*Entry, error) {
	p, err := NormalizePath(name)
	if err != nil {
		return nil, err
	}
	e, err := d.files.Get(ctx, []byte(p))
	if errors.Is(err, hyperbee.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeEntry(e)
}

// EntryFollow is Entry that follows symbolic links, at most 16 (JS
// entry(name, { follow: true })). As in JS, a link's name is resolved
// against the link's own path ([ResolvePath](key, linkname)). It returns
// nil when a link leads nowhere.
func (d *Drive) EntryFollow(ctx context.Context, name string) (*Entry, error) {
	for range 16 {
		e, err := d.Entry(ctx, name)
		if err != nil || e == nil || e.Value.Linkname == "" {
			return e, err
		}
		if name, err = ResolvePath(e.Key, e.Value.Linkname); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrRecursiveSymlink, name)
}

// Exists reports whether name has an entry.
func (d *Drive) Exists(ctx context.Context, name string) (bool, error) {
	e, err := d.Entry(ctx, name)
	return e != nil, err
}

// Get returns the content of file name (JS get). A missing entry, or a
// symbolic link, gives ErrNotFound.
func (d *Drive) Get(ctx context.Context, name string) ([]byte, error) {
	e, err := d.Entry(ctx, name)
	if err != nil {
		return nil, err
	}
	if e == nil || e.Value.Blob == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return nil, err
	}
	return blobs.Get(ctx, hyperblobs.ID(*e.Value.Blob), nil)
}

func (d *Drive) checkWritable() error {
	if !d.Writable() {
		return ErrReadOnly
	}
	return nil
}

// putValue writes the entry of path p.
func (d *Drive) putValue(ctx context.Context, p string, v EntryValue) error {
	b, err := encodeValue(v)
	if err != nil {
		return err
	}
	return d.files.Put(ctx, []byte(p), b)
}

// Put writes data as the content of file name (JS put): a new blob, then
// the entry.
func (d *Drive) Put(ctx context.Context, name string, data []byte, opts *PutOptions) error {
	if err := d.checkWritable(); err != nil {
		return err
	}
	p, err := NormalizePath(name)
	if err != nil {
		return err
	}
	v, err := d.putBlob(ctx, data, opts)
	if err != nil {
		return err
	}
	return d.putValue(ctx, p, v)
}

// putBlob writes data to the blobs core and returns the entry value of a
// file with that content and opts (nil for none); Put and Batch.Put then
// write the entry.
func (d *Drive) putBlob(ctx context.Context, data []byte, opts *PutOptions) (EntryValue, error) {
	if opts == nil {
		opts = &PutOptions{}
	}
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return EntryValue{}, err
	}
	id, err := blobs.Put(ctx, data, nil)
	if err != nil {
		return EntryValue{}, err
	}
	blob := BlobID(id)
	return EntryValue{Executable: opts.Executable, Blob: &blob, Metadata: opts.Metadata}, nil
}

// PutEntry writes an entry value as it is, without content (JS putEntry).
func (d *Drive) PutEntry(ctx context.Context, name string, v EntryValue) error {
	if err := d.checkWritable(); err != nil {
		return err
	}
	p, err := NormalizePath(name)
	if err != nil {
		return err
	}
	return d.putValue(ctx, p, v)
}

// Symlink makes name a symbolic link to linkname (JS symlink).
func (d *Drive) Symlink(ctx context.Context, name, linkname string) error {
	return d.SymlinkWithMetadata(ctx, name, linkname, nil)
}

// SymlinkWithMetadata is Symlink with entry metadata (JS symlink(name,
// dst, { metadata })).
func (d *Drive) SymlinkWithMetadata(ctx context.Context, name, linkname string, metadata json.RawMessage) error {
	return d.PutEntry(ctx, name, EntryValue{Linkname: linkname, Metadata: metadata})
}

// Del deletes the entry of name (JS del); its content stays in the blobs
// core. Deleting a missing entry appends nothing.
func (d *Drive) Del(ctx context.Context, name string) error {
	if err := d.checkWritable(); err != nil {
		return err
	}
	p, err := NormalizePath(name)
	if err != nil {
		return err
	}
	return d.files.Del(ctx, []byte(p))
}

// folderOf normalises a folder name as JS std(folder, true): the root is
// "", others have no trailing slash.
func folderOf(folder string) (string, error) {
	if folder == "" {
		folder = "/"
	}
	p, err := ResolvePath("/", folder)
	if err != nil {
		return "", err
	}
	if p == "/" {
		return "", nil
	}
	return p, nil
}

// prefixRange is JS prefixRange(folder, prev): keys after folder+prev
// and before folder+"0" ('0' is '/'+1).
func prefixRange(folder, prev string) hyperbee.Range {
	return hyperbee.Range{Gt: []byte(folder + prev), Lt: []byte(folder + "0")}
}

// List yields the entries under folder, recursively, in key order (JS
// list(folder)), hiding those opts.Ignore matches.
func (d *Drive) List(ctx context.Context, folder string, opts *ListOptions) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		f, err := folderOf(folder)
		if err != nil {
			yield(nil, err)
			return
		}
		var ignore func(string) bool
		if opts != nil {
			ignore = opts.Ignore
		}
		for be, err := range d.files.Range(ctx, prefixRange(f, "/")) {
			if err != nil {
				yield(nil, err)
				return
			}
			e, err := decodeEntry(be)
			if err != nil {
				yield(nil, err)
				return
			}
			if ignore != nil && ignore(e.Key) {
				continue
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// ListShallow yields one entry per name directly under folder (JS
// list(folder, { recursive: false })): a file's own entry, or for a
// folder the first entry found under it, as JS does.
func (d *Drive) ListShallow(ctx context.Context, folder string, opts *ListOptions) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		var ignore func(string) bool
		if opts != nil {
			ignore = opts.Ignore
		}
		for e, err := range d.shallow(ctx, folder) {
			if err != nil {
				yield(nil, err)
				return
			}
			if ignore != nil && ignore(e.entry.Key) {
				continue
			}
			if !yield(e.entry, nil) {
				return
			}
		}
	}
}

// Readdir yields the names directly under folder, files and folders, in
// byte order, each once (JS readdir).
func (d *Drive) Readdir(ctx context.Context, folder string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for e, err := range d.shallow(ctx, folder) {
			if err != nil {
				yield("", err)
				return
			}
			if !yield(e.name, nil) {
				return
			}
		}
	}
}

type shallowEntry struct {
	name  string
	dir   bool   // the entry found is under name/, not name itself
	entry *Entry // the first entry under or at name
}

// shallow walks the names under folder as JS's shallowReadStream: peek the
// first key after the previous name, skip a folder's subtree by peeking
// past "/name0".
func (d *Drive) shallow(ctx context.Context, folder string) iter.Seq2[shallowEntry, error] {
	return func(yield func(shallowEntry, error) bool) {
		f, err := folderOf(folder)
		if err != nil {
			yield(shallowEntry{}, err)
			return
		}
		prev, prevName := "/", ""
		for {
			be, err := d.files.Peek(ctx, prefixRange(f, prev))
			if errors.Is(err, hyperbee.ErrNotFound) {
				return
			}
			if err != nil {
				yield(shallowEntry{}, err)
				return
			}
			suffix := string(be.Key)[len(f)+1:]
			name, _, isDir := cutSlash(suffix)
			if isDir {
				prev = "/" + name + "0"
			} else {
				prev = "/" + name
			}
			if name == prevName {
				continue // a file and a folder of the same name
			}
			prevName = name
			e, err := decodeEntry(be)
			if err != nil {
				yield(shallowEntry{}, err)
				return
			}
			if !yield(shallowEntry{name: name, dir: isDir, entry: e}, nil) {
				return
			}
		}
	}
}

func cutSlash(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// DiffEntry is one difference between two versions of a drive: the entry
// of a key in the drive Diff was called on (Left) and in the other
// version (Right), nil where absent.
type DiffEntry struct {
	Left, Right *Entry
}

// Diff yields the entries under folder that differ between d and version
// (JS diff(version, folder)), in key order.
func (d *Drive) Diff(ctx context.Context, version uint64, folder string) iter.Seq2[DiffEntry, error] {
	return func(yield func(DiffEntry, error) bool) {
		f, err := folderOf(folder)
		if err != nil {
			yield(DiffEntry{}, err)
			return
		}
		other := d.sh.root.Checkout(version).Sub([]byte("files"))
		for de, err := range d.files.Diff(ctx, other, prefixRange(f, "/")) {
			if err != nil {
				yield(DiffEntry{}, err)
				return
			}
			var out DiffEntry
			if de.Left != nil {
				if out.Left, err = decodeEntry(*de.Left); err != nil {
					yield(DiffEntry{}, err)
					return
				}
			}
			if de.Right != nil {
				if out.Right, err = decodeEntry(*de.Right); err != nil {
					yield(DiffEntry{}, err)
					return
				}
			}
			if !yield(out, nil) {
				return
			}
		}
	}
}

// CreateReadStream returns a reader of file name's content, or of the
// byte range opts selects (JS createReadStream). The reader is a
// *hyperblobs.Reader: it also implements io.Seeker and io.ReaderAt. ctx
// bounds every read; the reader must be closed. A missing entry gives
// ErrNotFound; a symbolic link or an empty file reads nothing.
func (d *Drive) CreateReadStream(ctx context.Context, name string, opts *ReadOptions) (io.ReadCloser, error) {
	e, err := d.Entry(ctx, name)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return d.openBlob(ctx, e, opts)
}

func (d *Drive) openBlob(ctx context.Context, e *Entry, opts *ReadOptions) (*hyperblobs.Reader, error) {
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return nil, err
	}
	var id hyperblobs.ID
	if e.Value.Blob != nil {
		id = hyperblobs.ID(*e.Value.Blob)
	}
	ro := &hyperblobs.ReadOptions{}
	if opts != nil {
		ro.Start, ro.Length, ro.NoPrefetch = opts.Start, opts.Length, opts.NoPrefetch
	}
	return blobs.CreateReadStream(ctx, id, ro)
}

// BlobByteLength returns the content length of blob (mirrordrive
// BlobSizer): its ByteLength, or the length a block map lists.
func (d *Drive) BlobByteLength(ctx context.Context, blob BlobID) (uint64, error) {
	if !blob.BlockMap {
		return blob.ByteLength, nil
	}
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return 0, err
	}
	return blobs.ByteLength(ctx, hyperblobs.ID(blob))
}

// fileWriter is the write stream of a file: a blob writer whose Close
// writes the entry.
type fileWriter struct {
	d    *Drive
	ctx  context.Context
	path string
	opts PutOptions
	w    *hyperblobs.Writer
}

// CreateWriteStream returns a writer of file name's new content (JS
// createWriteStream): the blob is written as it comes, and Close writes
// the entry. CloseWithError abandons the file. The blobs' write lock is
// held until then, so the writer must be closed.
func (d *Drive) CreateWriteStream(ctx context.Context, name string, opts *PutOptions) (io.WriteCloser, error) {
	if err := d.checkWritable(); err != nil {
		return nil, err
	}
	p, err := NormalizePath(name)
	if err != nil {
		return nil, err
	}
	blobs, err := d.getBlobs(ctx, false)
	if err != nil {
		return nil, err
	}
	w, err := blobs.CreateWriteStream(ctx, nil)
	if err != nil {
		return nil, err
	}
	fw := &fileWriter{d: d, ctx: ctx, path: p, w: w}
	if opts != nil {
		fw.opts = *opts
	}
	return fw, nil
}

func (fw *fileWriter) Write(p []byte) (int, error) { return fw.w.Write(p) }

// Close finishes the blob and writes the entry.
func (fw *fileWriter) Close() error {
	if err := fw.w.Close(); err != nil {
		return err
	}
	blob := BlobID(fw.w.ID())
	return fw.d.putValue(fw.ctx, fw.path, EntryValue{Executable: fw.opts.Executable, Blob: &blob, Metadata: fw.opts.Metadata})
}

// CloseWithError abandons the file: no entry is written.
func (fw *fileWriter) CloseWithError(err error) error { return fw.w.CloseWithError(err) }
