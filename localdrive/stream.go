package localdrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/gopear/gopear/hyperdrive"
)

// CreateReadStream opens the file at key for reading, whole or the range
// opts selects; a range past the end of the file is cut short. The file is
// opened by name, so a symbolic link is read through (as in JS). The reader
// also implements io.ReaderAt and io.Seeker over the range. It fails with an
// error matching fs.ErrNotExist when there is no file, and when key is not a
// regular file.
func (d *Drive) CreateReadStream(ctx context.Context, key string, opts *hyperdrive.ReadOptions) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, filename, err := d.toPath(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filename)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = &fs.PathError{Op: "read", Path: filename, Err: errNotFile}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	var o hyperdrive.ReadOptions
	if opts != nil {
		o = *opts
	}
	size := uint64(st.Size())
	start, n := min(o.Start, size), size-min(o.Start, size)
	if o.Length > 0 && o.Length < n {
		n = o.Length
	}
	return &fileReader{SectionReader: io.NewSectionReader(f, int64(start), int64(n)), f: f}, nil
}

// errNotFile is the error of reading a folder or special file; it matches
// fs.ErrNotExist, since such a path has no entry.
var errNotFile = fmt.Errorf("not a file: %w", fs.ErrNotExist)

// fileReader reads a range of an open file.
type fileReader struct {
	*io.SectionReader
	f    *os.File
	once sync.Once
	err  error
}

// Close closes the file; it is idempotent.
func (r *fileReader) Close() error {
	r.once.Do(func() { r.err = r.f.Close() })
	return r.err
}

// CreateWriteStream creates or truncates the file at key, creating its
// folders, and returns a writer to it. The file's mode is 0755 with
// opts.Executable, 0644 otherwise (a file that exists keeps its mode unless
// its owner's executable bit is wrong). Close completes the write: it stores
// opts.Metadata in the metadata store (or deletes the key's metadata when it
// is nil), closes the file and, with Options.Atomic, renames the temporary
// file over key. Close must be called for the file to be complete.
//
// The writer also has a CloseWithError(error) error method that abandons the
// write: the file is closed without touching metadata and, with
// Options.Atomic, the temporary file is removed (otherwise what was written
// stays). The context is used for the metadata store at Close.
func (d *Drive) CreateWriteStream(ctx context.Context, key string, opts *hyperdrive.PutOptions) (io.WriteCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keyname, filename, err := d.toPath(key)
	if err != nil {
		return nil, err
	}
	var o hyperdrive.PutOptions
	if opts != nil {
		o = *opts
	}
	w := &fileWriter{ctx: ctx, d: d, key: keyname, filename: filename, tmp: filename, metadata: o.Metadata}
	if d.opts.Atomic {
		w.tmp = d.allocTemp(filename)
	}
	mode := fs.FileMode(0o644)
	if o.Executable {
		mode = 0o755
	}
	// The folder usually exists (a mirror writes many files to each):
	// open first, and make the folders only when that fails for want of
	// them.
	const flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC | os.O_APPEND
	d.mu.RLock()
	w.f, err = os.OpenFile(w.tmp, flags, mode)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(filename), 0o777); err == nil {
			w.f, err = os.OpenFile(w.tmp, flags, mode)
		}
	}
	d.mu.RUnlock()
	if err == nil {
		var st fs.FileInfo
		if st, err = w.f.Stat(); err == nil && o.Executable != (st.Mode().Perm()&0o100 != 0) {
			err = w.f.Chmod(mode)
		}
	}
	if err != nil {
		w.CloseWithError(err)
		return nil, err
	}
	return w, nil
}

// fileWriter writes one file of a drive. Like an *os.File it is not safe
// for concurrent writes.
type fileWriter struct {
	ctx      context.Context // of CreateWriteStream, for the metadata store at Close
	d        *Drive
	key      string
	filename string
	tmp      string // == filename unless the write is atomic
	metadata []byte
	f        *os.File
	done     bool
	err      error // sticky: the first write error, or the result of closing
}

var errWriterClosed = errors.New("localdrive: write stream closed")

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Close completes the write; see [Drive.CreateWriteStream]. It is
// idempotent.
func (w *fileWriter) Close() error {
	if w.done {
		return w.err
	}
	if w.err != nil {
		w.CloseWithError(w.err)
		return w.err
	}
	w.done = true
	if m := w.d.opts.Metadata; m != nil {
		if w.metadata == nil {
			w.err = m.Del(w.ctx, w.key)
		} else {
			w.err = m.Put(w.ctx, w.key, w.metadata)
		}
	}
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	if w.tmp != w.filename {
		if w.err == nil {
			w.err = os.Rename(w.tmp, w.filename)
		}
		if w.err != nil {
			os.Remove(w.tmp)
		}
		w.d.freeTemp(w.tmp)
	}
	return w.err
}

// CloseWithError abandons the write; see [Drive.CreateWriteStream]. Later
// calls to Write and Close return err (or an error saying the writer is
// closed when err is nil).
func (w *fileWriter) CloseWithError(err error) error {
	if w.done {
		return nil
	}
	w.done = true
	if err == nil {
		err = errWriterClosed
	}
	w.err = err
	if w.f != nil {
		w.f.Close()
	}
	if w.tmp != w.filename {
		os.Remove(w.tmp)
		w.d.freeTemp(w.tmp)
	}
	return nil
}
