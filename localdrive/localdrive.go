// Package localdrive is a folder on disk with the API of a drive, compatible
// with the JavaScript module localdrive 2.2.1: the same keys, entries,
// listing order and file modes, so that mirrordrive can copy a folder into a
// hyperdrive and back, and a folder looks the same to Go and to JS.
//
// # Keys
//
// Every key is a drive path, normalised as hyperdrive normalises it
// ([hyperdrive.ResolvePath] against "/"): "a/b.txt", "/a/./b.txt" and
// "\a\b.txt" all name the file b.txt in the folder a under the drive's root.
// A key with more ".." than folders above it, or with a NUL byte, is
// rejected with an error matching [hyperdrive.ErrInvalidPath]; no key names a
// file outside the root. Symbolic links already in the folder are followed
// by the operating system when a file is read or written through them, as in
// JS; [Drive.FS] never leaves the root, links included.
//
// # Entries
//
// [Drive.Entry] returns what localdrive's entry() returns: a regular file has
// a synthetic blob (offsets 0, byteLength the file size, blockLength the
// file's 512-byte blocks), the executable bit of its owner, and metadata from
// the optional [MetadataStore]; a symbolic link has its target as the link
// name (made drive-absolute when it points into the root). Folders, missing
// paths and special files have no entry (nil, with a nil error); like JS, a
// path that cannot be stat'ed for any reason counts as missing.
//
// # Differences from JS
//
// The API is Go's: calls take a context first, lists are iterators, streams
// are io.Reader and io.Writer. Ready, checkout and mirror are not here
// (mirroring is mirrordrive.Mirror). Metadata is JSON text. A Drive is safe
// for concurrent use; like JS it keeps no state besides the optional
// metadata store, so Close only makes the API complete.
package localdrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/gopear/gopear/hyperdrive"
)

// Options configure a Drive. A nil *Options gives the defaults: symbolic
// links are reported as links, writes go straight to the file, no metadata.
type Options struct {
	// FollowLinks makes every symbolic link look like its target: a link to
	// a file is that file, a link to a folder is that folder, a dangling
	// link is nothing (JS followLinks).
	FollowLinks bool
	// FollowExternalLinks follows only the links that point outside the
	// root; links that stay inside it are still reported as links (JS
	// followExternalLinks).
	FollowExternalLinks bool
	// Metadata, when not nil, stores the metadata of entries; the drive then
	// reports SupportsMetadata (JS metadata hooks, or a Map: see
	// [NewMetadataMap]).
	Metadata MetadataStore
	// Atomic makes writes go to a temporary file beside the target,
	// "<name>.<n>.localdrive.tmp", renamed over it when the write completes
	// (JS atomic).
	Atomic bool
}

// MetadataStore keeps entry metadata for a Drive, the hooks of JS
// localdrive's metadata option. Keys are normalised drive paths; values are
// JSON text, nil for none. Implementations must be safe for concurrent use.
type MetadataStore interface {
	// Get returns the metadata of key, nil when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores the metadata of key.
	Put(ctx context.Context, key string, value []byte) error
	// Del forgets the metadata of key.
	Del(ctx context.Context, key string) error
}

// Drive is a folder seen as a drive. It is safe for concurrent use.
type Drive struct {
	root   string
	opts   Options
	follow bool // FollowLinks || FollowExternalLinks

	// mu keeps the making of folders (and of the files and links in
	// them), which take it shared, apart from the removal of empty
	// folders, which takes it alone (JS's mutexify lock serialises both).
	mu sync.RWMutex

	tmpMu   sync.Mutex
	atomics map[string]bool // temporary names of atomic writes in progress
}

// New returns the drive over the folder root, made absolute. The folder need
// not exist: writes create it.
func New(root string, opts *Options) (*Drive, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("localdrive: %w", err)
	}
	d := &Drive{root: abs}
	if opts != nil {
		d.opts = *opts
	}
	d.follow = d.opts.FollowLinks || d.opts.FollowExternalLinks
	if d.opts.Atomic {
		d.atomics = make(map[string]bool)
	}
	return d, nil
}

// Root returns the absolute path of the drive's folder.
func (d *Drive) Root() string { return d.root }

// SupportsMetadata reports whether the drive stores metadata (whether
// Options.Metadata was set), as JS's supportsMetadata. Mirroring compares
// metadata only between drives that both support it.
func (d *Drive) SupportsMetadata() bool { return d.opts.Metadata != nil }

// Close does nothing and returns nil: a localdrive holds no resources
// (JS close is a no-op too).
func (d *Drive) Close() error { return nil }

// ConcurrentWrites reports true: the files of a folder are independent of
// each other and a Drive is safe for concurrent use, so mirrordrive may
// write several at once (mirrordrive.ConcurrentWriter).
func (d *Drive) ConcurrentWrites() bool { return true }

// Batch returns d: writes to a folder are not batched (JS batch() returns
// the drive itself).
func (d *Drive) Batch() *Drive { return d }

// Flush does nothing and returns nil, as JS flush.
func (d *Drive) Flush(ctx context.Context) error { return nil }

// ToPath returns the file name of key on disk: the key normalised and joined
// to the root.
func (d *Drive) ToPath(key string) (string, error) {
	_, filename, err := d.toPath(key)
	return filename, err
}

// toPath normalises key and returns it with its file name.
func (d *Drive) toPath(key string) (keyname, filename string, err error) {
	keyname, err = hyperdrive.ResolvePath("/", key)
	if err != nil {
		return "", "", err
	}
	if strings.IndexByte(keyname, 0) >= 0 {
		return "", "", &hyperdrive.PathError{Path: key, Reason: "NUL byte in path"}
	}
	return keyname, d.join(keyname), nil
}

// join maps a normalised key to its file name. Normalised keys have no ".."
// so the result is always under the root.
func (d *Drive) join(keyname string) string {
	return filepath.Join(d.root, filepath.FromSlash(keyname))
}

// Entry returns the entry at key, or nil (and a nil error) when key is not a
// file or a symbolic link. See the package documentation for what an entry
// holds.
func (d *Drive) Entry(ctx context.Context, key string) (*hyperdrive.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keyname, filename, err := d.toPath(key)
	if err != nil {
		return nil, err
	}
	return d.entry(ctx, keyname, filename)
}

func (d *Drive) entry(ctx context.Context, keyname, filename string) (*hyperdrive.Entry, error) {
	st, filename, err := d.resolve(filename)
	if err != nil || st == nil || st.IsDir() {
		return nil, err
	}
	e := &hyperdrive.Entry{Key: keyname, Mtime: st.ModTime()}
	if st.Mode()&fs.ModeSymlink != 0 {
		link, err := os.Readlink(filename)
		if err != nil {
			return nil, err
		}
		e.Value.Linkname = d.linkname(link)
		return e, nil
	}
	e.Value.Executable = st.Mode().Perm()&0o100 != 0
	if d.opts.Metadata != nil {
		m, err := d.opts.Metadata.Get(ctx, keyname)
		if err != nil {
			return nil, err
		}
		if m != nil {
			e.Value.Metadata = m
		}
	}
	if !st.Mode().IsRegular() {
		return nil, nil
	}
	e.Value.Blob = &hyperdrive.BlobID{BlockLength: blockLength(st), ByteLength: uint64(st.Size())}
	return e, nil
}

// linkname turns a link target read from disk into an entry's link name:
// forward slashes, and a target under the root made drive-absolute. The
// root test is a plain string prefix, as in JS.
func (d *Drive) linkname(link string) string {
	link = strings.ReplaceAll(link, `\`, "/")
	root := strings.ReplaceAll(d.root, `\`, "/")
	if strings.HasPrefix(link, root) {
		link = link[len(root):]
		if !strings.HasPrefix(link, "/") {
			link = "/" + link
		}
	}
	return link
}

// maxExternalLinks bounds how many external links resolve follows, as JS.
const maxExternalLinks = 256

// resolve stats filename the way the options ask, and returns the stat (nil
// when it cannot be stat'ed) and the file it describes.
func (d *Drive) resolve(filename string) (fs.FileInfo, string, error) {
	if d.opts.FollowLinks {
		return statOrNil(os.Stat(filename)), filename, nil
	}
	if !d.opts.FollowExternalLinks {
		return statOrNil(os.Lstat(filename)), filename, nil
	}
	for range maxExternalLinks {
		st := statOrNil(os.Lstat(filename))
		if st == nil || st.Mode()&fs.ModeSymlink == 0 {
			return st, filename, nil
		}
		link, err := os.Readlink(filename)
		if err != nil {
			return nil, "", err
		}
		resolved := filepath.Clean(link)
		if !filepath.IsAbs(link) {
			resolved = filepath.Join(filepath.Dir(filename), link)
		}
		if strings.HasPrefix(resolved, d.root) { // not external (a string prefix, as JS)
			return st, filename, nil
		}
		filename = resolved
	}
	return nil, "", errors.New("localdrive: reached symlink recursion limit")
}

// statOrNil drops the error of a stat: like JS, localdrive treats a path it
// cannot stat as absent.
func statOrNil(st fs.FileInfo, err error) fs.FileInfo {
	if err != nil {
		return nil
	}
	return st
}

// maxFollow bounds the links Resolve follows, as JS entry(key, { follow }).
const maxFollow = 16

// Resolve returns the entry at key after following symbolic links, at most
// 16 of them, as JS entry(key, { follow: true }). A link name is resolved
// against the key of the link itself (not its folder), as JS does: a link
// "/a/l" to "b" leads to "/a/l/b".
func (d *Drive) Resolve(ctx context.Context, key string) (*hyperdrive.Entry, error) {
	for range maxFollow {
		e, err := d.Entry(ctx, key)
		if err != nil || e == nil || e.Value.Linkname == "" {
			return e, err
		}
		if key, err = hyperdrive.ResolvePath(e.Key, e.Value.Linkname); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("localdrive: recursive symlink")
}

// Exists reports whether key has an entry.
func (d *Drive) Exists(ctx context.Context, key string) (bool, error) {
	e, err := d.Entry(ctx, key)
	return e != nil, err
}

// Get returns the content of the file at key. When key has no entry, or its
// entry has no blob (a symbolic link), the error matches fs.ErrNotExist (JS
// returns null).
func (d *Drive) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := d.Entry(ctx, key)
	if err != nil {
		return nil, err
	}
	if e == nil || e.Value.Blob == nil {
		return nil, &fs.PathError{Op: "get", Path: key, Err: fs.ErrNotExist}
	}
	r, err := d.CreateReadStream(ctx, e.Key, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Put writes data to the file at key, creating its folders, with mode 0755
// when opts.Executable and 0644 otherwise (before the umask), and stores or
// deletes its metadata.
func (d *Drive) Put(ctx context.Context, key string, data []byte, opts *hyperdrive.PutOptions) error {
	w, err := d.CreateWriteStream(ctx, key, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.(*fileWriter).CloseWithError(err)
		return err
	}
	return w.Close()
}

// Del removes the file or link at key, then every folder above it that is
// left empty (up to the root), then its metadata. A missing key is not an
// error; a folder cannot be deleted.
func (d *Drive) Del(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keyname, filename, err := d.toPath(key)
	if err != nil {
		return err
	}
	if st, err := os.Lstat(filename); err == nil && st.IsDir() {
		return &fs.PathError{Op: "unlink", Path: filename, Err: errIsDir}
	}
	if err := os.Remove(filename); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	d.mu.Lock()
	d.removeEmptyFolders(filepath.Dir(filename))
	d.mu.Unlock()
	if d.opts.Metadata != nil {
		return d.opts.Metadata.Del(ctx, keyname)
	}
	return nil
}

var errIsDir = errors.New("is a directory")

// removeEmptyFolders removes dir and its parents up to the root while they
// are empty. d.mu must be held.
func (d *Drive) removeEmptyFolders(dir string) {
	for dir != d.root && strings.HasPrefix(dir, d.root) {
		if err := os.Remove(dir); err != nil { // fails unless empty
			return
		}
		dir = filepath.Dir(dir)
	}
}

// Symlink makes key a symbolic link to linkname, replacing the entry at key.
// A linkname starting with "/" is a drive path, stored as the absolute file
// name of that path under the root (as JS does); any other linkname is
// stored as given, relative to the link's folder.
func (d *Drive) Symlink(ctx context.Context, key, linkname string) error {
	e, err := d.Entry(ctx, key)
	if err != nil {
		return err
	}
	if e != nil {
		if err := d.Del(ctx, key); err != nil {
			return err
		}
	}
	_, pointer, err := d.toPath(key)
	if err != nil {
		return err
	}
	target := filepath.FromSlash(linkname)
	if strings.HasPrefix(linkname, "/") {
		if _, target, err = d.toPath(linkname); err != nil {
			return err
		}
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if err := os.MkdirAll(filepath.Dir(pointer), 0o777); err != nil {
		return err
	}
	return os.Symlink(target, pointer)
}

// Compare orders two entries of this drive by modification time, as JS
// compare: -1, 0 or 1.
func (d *Drive) Compare(a, b *hyperdrive.Entry) int {
	return a.Mtime.Compare(b.Mtime)
}

// List returns the entries under folder (all of the drive for "" or "/"),
// recursively, in the order the operating system lists each folder (JS
// opendir order), descending into each subfolder where it is met. A folder
// that does not exist, or is a file, lists nothing. With opts.Ignore, ignored
// keys are skipped, and an ignored folder is not entered. Symbolic links to
// folders are entered only with FollowLinks or FollowExternalLinks.
func (d *Drive) List(ctx context.Context, folder string, opts *hyperdrive.ListOptions) iter.Seq2[*hyperdrive.Entry, error] {
	var ignore func(string) bool
	if opts != nil {
		ignore = opts.Ignore
	}
	return func(yield func(*hyperdrive.Entry, error) bool) {
		keyname, _, err := d.toPath(folder)
		if err != nil {
			yield(nil, err)
			return
		}
		d.list(ctx, keyname, ignore, yield)
	}
}

// list walks the folder keyname; it returns false when yield asked to stop.
func (d *Drive) list(ctx context.Context, keyname string, ignore func(string) bool, yield func(*hyperdrive.Entry, error) bool) bool {
	fulldir := d.join(keyname)
	dir, err := os.Open(fulldir)
	if err != nil {
		return true // JS: a folder that cannot be opened lists nothing
	}
	defer dir.Close()
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return yield(nil, err)
		}
		ents, err := dir.ReadDir(64) // directory order, unsorted, as opendir
		if err != nil {
			if err == io.EOF || first || errors.Is(err, fs.ErrNotExist) {
				// The end; or not a folder; or a folder removed while it
				// was listed (pruning a mirror does that), which JS lists
				// to the end without error.
				return true
			}
			return yield(nil, err)
		}
		first = false
		for _, de := range ents {
			key, err := hyperdrive.ResolvePath(keyname, de.Name())
			if err != nil {
				return yield(nil, err)
			}
			if ignore != nil && ignore(key) {
				continue
			}
			if d.isDir(fulldir, de) {
				if !d.list(ctx, key, ignore, yield) {
					return false
				}
				continue
			}
			e, err := d.Entry(ctx, key)
			if err != nil {
				return yield(nil, err)
			}
			if e != nil && !yield(e, nil) {
				return false
			}
		}
	}
}

// isDir reports whether a listed name is a folder to descend into.
func (d *Drive) isDir(fulldir string, de fs.DirEntry) bool {
	if de.IsDir() {
		return true
	}
	if de.Type()&fs.ModeSymlink != 0 && d.follow {
		st, _, err := d.resolve(filepath.Join(fulldir, de.Name()))
		return err == nil && st != nil && st.IsDir()
	}
	return false
}

// Readdir returns the names directly in folder, sorted by bytes (JS readdir
// order): every file or link with an entry, and every subfolder with at
// least one entry somewhere below it.
func (d *Drive) Readdir(ctx context.Context, folder string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		keyname, fulldir, err := d.toPath(folder)
		if err != nil {
			yield("", err)
			return
		}
		ents, err := os.ReadDir(fulldir)
		if err != nil && len(ents) == 0 {
			return // JS: a folder that cannot be read lists nothing
		}
		for _, de := range ents {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			key, err := hyperdrive.ResolvePath(keyname, de.Name())
			if err != nil {
				yield("", err)
				return
			}
			name := key
			if strings.HasPrefix(key, keyname) {
				name = key[len(keyname):]
			}
			if i := strings.IndexByte(name, '/'); i >= 0 {
				name = name[i+1:]
			}
			if d.isDir(fulldir, de) {
				empty, err := d.isEmpty(ctx, key)
				if err != nil {
					yield("", err)
					return
				}
				if !empty && !yield(name, nil) {
					return
				}
				continue
			}
			e, err := d.Entry(ctx, key)
			if err != nil {
				yield("", err)
				return
			}
			if e != nil && !yield(name, nil) {
				return
			}
		}
	}
}

// isEmpty reports whether the folder key lists no entry.
func (d *Drive) isEmpty(ctx context.Context, key string) (bool, error) {
	for _, err := range d.List(ctx, key, nil) {
		return false, err
	}
	return true, nil
}

// allocTemp returns a free temporary name for an atomic write of filename.
func (d *Drive) allocTemp(filename string) string {
	d.tmpMu.Lock()
	defer d.tmpMu.Unlock()
	for c := 0; ; c++ {
		name := filename + "." + strconv.Itoa(c) + ".localdrive.tmp"
		if !d.atomics[name] {
			d.atomics[name] = true
			return name
		}
	}
}

func (d *Drive) freeTemp(name string) {
	d.tmpMu.Lock()
	delete(d.atomics, name)
	d.tmpMu.Unlock()
}
