package hyperdrive

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/gopear/gopear/hyperbee"
	"github.com/gopear/gopear/hyperblobs"
)

// FS returns a read-only io/fs view of the drive's current version (a
// snapshot: later writes do not show). Names follow fs.ValidPath: "a/b"
// is the drive path "/a/b", "." the root. Folders exist as the prefixes of
// file paths. Open and Stat follow symbolic links (as [Drive.EntryFollow]
// resolves them); ReadDir, Lstat and ReadLink do not.
//
// Files implement io.Seeker and io.ReaderAt, so http.FileServer serves
// them with range requests. Reads wait for content from peers for as long
// as the drive is open.
func (d *Drive) FS() fs.FS {
	return &driveFS{d: d.Snapshot()}
}

// driveFS is the fs.FS of a drive snapshot.
type driveFS struct{ d *Drive }

var (
	_ fs.FS          = (*driveFS)(nil)
	_ fs.StatFS      = (*driveFS)(nil)
	_ fs.ReadDirFS   = (*driveFS)(nil)
	_ fs.ReadLinkFS  = (*driveFS)(nil)
	_ fs.ReadDirFile = (*dirFile)(nil)
	_ io.ReaderAt    = (*file)(nil)
	_ io.Seeker      = (*file)(nil)
)

func (f *driveFS) ctx() context.Context { return f.d.sh.ctx }

func pathErr(op, name string, err error) error {
	if errors.Is(err, ErrNotFound) {
		err = fs.ErrNotExist
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// drivePath maps a valid fs name to a drive path ("/" for ".").
func drivePath(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return "/", nil
	}
	if strings.ContainsRune(name, '\\') {
		// Drive paths never hold '\' (it separates names, as '/' does).
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return "/" + name, nil
}

// isDir reports whether some entry lies under drive path p.
func (f *driveFS) isDir(p string) (bool, error) {
	folder := p
	if p == "/" {
		return true, nil
	}
	_, err := f.d.files.Peek(f.ctx(), prefixRange(folder, "/"))
	if errors.Is(err, hyperbee.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// lookup returns the info of drive path p: its entry (following links
// when follow), else a folder, else fs.ErrNotExist.
func (f *driveFS) lookup(op, name string, follow bool) (*fileInfo, error) {
	p, err := drivePath(op, name)
	if err != nil {
		return nil, err
	}
	if p != "/" {
		var e *Entry
		if follow {
			e, err = f.d.EntryFollow(f.ctx(), p)
		} else {
			e, err = f.d.Entry(f.ctx(), p)
		}
		if err != nil {
			return nil, pathErr(op, name, err)
		}
		if e != nil {
			size, err := f.size(e)
			if err != nil {
				return nil, pathErr(op, name, err)
			}
			return &fileInfo{name: path.Base(name), entry: e, size: size}, nil
		}
		if follow {
			// A link that leads to a folder opens the folder.
			if raw, err := f.d.Entry(f.ctx(), p); err == nil && raw != nil && raw.Value.Linkname != "" {
				if t, err := resolveLink(raw); err == nil {
					p = t
				}
			}
		}
	}
	ok, err := f.isDir(p)
	if err != nil {
		return nil, pathErr(op, name, err)
	}
	if !ok {
		return nil, pathErr(op, name, fs.ErrNotExist)
	}
	return &fileInfo{name: path.Base(name), dir: true, dirPath: p}, nil
}

// resolveLink returns the path a link's last step names (following any
// further links is left to the caller).
func resolveLink(e *Entry) (string, error) { return ResolvePath(e.Key, e.Value.Linkname) }

func (f *driveFS) size(e *Entry) (int64, error) {
	if e.Value.Blob == nil {
		if e.Value.Linkname != "" {
			return int64(len(e.Value.Linkname)), nil
		}
		return 0, nil
	}
	n, err := f.d.BlobByteLength(f.ctx(), *e.Value.Blob)
	return int64(n), err
}

// Open opens the file or folder name.
func (f *driveFS) Open(name string) (fs.File, error) {
	info, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	if info.dir {
		return &dirFile{fs: f, info: info, name: name}, nil
	}
	return &file{fs: f, info: info}, nil
}

// Stat returns the info of name, following links.
func (f *driveFS) Stat(name string) (fs.FileInfo, error) {
	info, err := f.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return info, nil
}

// Lstat returns the info of name without following a link.
func (f *driveFS) Lstat(name string) (fs.FileInfo, error) {
	info, err := f.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return info, nil
}

// ReadLink returns the link name of the symbolic link name.
func (f *driveFS) ReadLink(name string) (string, error) {
	info, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if info.entry == nil || info.entry.Value.Linkname == "" {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return info.entry.Value.Linkname, nil
}

// ReadDir lists folder name, sorted by name.
func (f *driveFS) ReadDir(name string) ([]fs.DirEntry, error) {
	info, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !info.dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return f.readDir(name, info.dirPath)
}

func (f *driveFS) readDir(name, p string) ([]fs.DirEntry, error) {
	folder := p
	if p == "/" {
		folder = ""
	}
	var out []fs.DirEntry
	for se, err := range f.d.shallow(f.ctx(), folder) {
		if err != nil {
			return nil, pathErr("readdir", name, err)
		}
		if se.name == "" {
			continue // a key with an empty name ("//"): no fs name for it
		}
		fi := &fileInfo{name: se.name, dir: true, dirPath: folder + "/" + se.name}
		if !se.dir {
			size, err := f.size(se.entry)
			if err != nil {
				return nil, pathErr("readdir", name, err)
			}
			fi = &fileInfo{name: se.name, entry: se.entry, size: size}
		}
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	return out, nil
}

// fileInfo describes an entry or a folder.
type fileInfo struct {
	name    string
	entry   *Entry // nil for a folder
	size    int64
	dir     bool
	dirPath string
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) ModTime() time.Time { return time.Time{} }
func (i *fileInfo) IsDir() bool        { return i.dir }

// Sys returns the *Entry, or nil for a folder.
func (i *fileInfo) Sys() any {
	if i.entry == nil {
		return nil
	}
	return i.entry
}

// Mode is 0755 for folders and executables, 0644 for other files, and
// marks links.
func (i *fileInfo) Mode() fs.FileMode {
	switch {
	case i.dir:
		return fs.ModeDir | 0o755
	case i.entry.Value.Linkname != "":
		return fs.ModeSymlink | 0o777
	case i.entry.Value.Executable:
		return 0o755
	}
	return 0o644
}

// file is an open file of a drive snapshot.
type file struct {
	fs     *driveFS
	info   *fileInfo
	r      *hyperblobs.Reader // opened on first read
	closed bool
}

func (f *file) Stat() (fs.FileInfo, error) {
	if f.closed {
		return nil, pathErr("stat", f.info.name, fs.ErrClosed)
	}
	return f.info, nil
}

func (f *file) reader() (*hyperblobs.Reader, error) {
	if f.closed {
		return nil, fs.ErrClosed
	}
	if f.r == nil {
		e := f.info.entry
		if e.Value.Blob == nil { // a link's entry is not opened: Open follows
			e = &Entry{}
		}
		r, err := f.fs.d.openBlob(f.fs.ctx(), e, nil)
		if err != nil {
			return nil, err
		}
		f.r = r
	}
	return f.r, nil
}

func (f *file) Read(p []byte) (int, error) {
	r, err := f.reader()
	if err != nil {
		return 0, pathErr("read", f.info.name, err)
	}
	return r.Read(p)
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	r, err := f.reader()
	if err != nil {
		return 0, pathErr("read", f.info.name, err)
	}
	return r.ReadAt(p, off)
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	r, err := f.reader()
	if err != nil {
		return 0, pathErr("seek", f.info.name, err)
	}
	return r.Seek(offset, whence)
}

func (f *file) Close() error {
	if f.closed {
		return pathErr("close", f.info.name, fs.ErrClosed)
	}
	f.closed = true
	if f.r != nil {
		return f.r.Close()
	}
	return nil
}

// dirFile is an open folder.
type dirFile struct {
	fs      *driveFS
	info    *fileInfo
	name    string
	entries []fs.DirEntry
	read    bool
	off     int
	closed  bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) {
	if d.closed {
		return nil, pathErr("stat", d.name, fs.ErrClosed)
	}
	return d.info, nil
}

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *dirFile) Close() error {
	if d.closed {
		return pathErr("close", d.name, fs.ErrClosed)
	}
	d.closed = true
	return nil
}

// ReadDir returns the next n entries (all remaining when n <= 0).
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, pathErr("readdir", d.name, fs.ErrClosed)
	}
	if !d.read {
		es, err := d.fs.readDir(d.name, d.info.dirPath)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = es, true
	}
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(rest))
	d.off += k
	return rest[:k], nil
}
