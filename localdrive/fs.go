package localdrive

import (
	"io/fs"
	"os"
)

// FS returns the drive's folder as an io/fs.FS: name "a/b.txt" is key
// "/a/b.txt". It is the folder as the operating system shows it (folders,
// including empty ones, and every file), but confined to the root: a name
// or a symbolic link that leads outside the root, and an absolute symbolic
// link, fail to open. The result also implements fs.StatFS, fs.ReadDirFS,
// fs.ReadFileFS and fs.ReadLinkFS; its files implement io.ReaderAt and io.Seeker, so
// http.FileServer can serve it.
func (d *Drive) FS() fs.FS { return folderFS(d.root) }

// folderFS opens the root for each call (os.OpenRoot), so it works whether
// or not the folder exists yet, and holds nothing open between calls.
type folderFS string

var (
	_ fs.StatFS     = folderFS("")
	_ fs.ReadDirFS  = folderFS("")
	_ fs.ReadFileFS = folderFS("")
)

// with runs fn on the FS of the root, and reports a failure to open the
// root as a *fs.PathError for name.
func with[T any](f folderFS, op, name string, fn func(fs.FS) (T, error)) (T, error) {
	var zero T
	if !fs.ValidPath(name) {
		return zero, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	r, err := os.OpenRoot(string(f))
	if err != nil {
		return zero, &fs.PathError{Op: op, Path: name, Err: err}
	}
	defer r.Close()
	return fn(r.FS())
}

func (f folderFS) Open(name string) (fs.File, error) {
	return with(f, "open", name, func(fsys fs.FS) (fs.File, error) { return fsys.Open(name) })
}

func (f folderFS) Stat(name string) (fs.FileInfo, error) {
	return with(f, "stat", name, func(fsys fs.FS) (fs.FileInfo, error) { return fs.Stat(fsys, name) })
}

func (f folderFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return with(f, "readdir", name, func(fsys fs.FS) ([]fs.DirEntry, error) { return fs.ReadDir(fsys, name) })
}

func (f folderFS) ReadFile(name string) ([]byte, error) {
	return with(f, "readfile", name, func(fsys fs.FS) ([]byte, error) { return fs.ReadFile(fsys, name) })
}

var _ fs.ReadLinkFS = folderFS("")

func (f folderFS) ReadLink(name string) (string, error) {
	return with(f, "readlink", name, func(fsys fs.FS) (string, error) { return fs.ReadLink(fsys, name) })
}

func (f folderFS) Lstat(name string) (fs.FileInfo, error) {
	return with(f, "lstat", name, func(fsys fs.FS) (fs.FileInfo, error) { return fs.Lstat(fsys, name) })
}
