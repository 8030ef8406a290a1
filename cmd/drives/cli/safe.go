package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
)

// errUnsafePath marks a drive path that the CLI refuses to write to a
// folder.
var errUnsafePath = errors.New("unsafe path")

// checkExportPath returns an error wrapping errUnsafePath unless key can be
// written under root without leaving it: key must be a normalised drive
// path ("/a/b", no "..", no NUL, nothing that normalises to another key),
// and no folder on its way under root may be a symbolic link (a link a
// drive wrote earlier could otherwise lead a later write outside root).
// The entry at key itself may be a link: it is replaced, never followed.
func checkExportPath(root, key string) error {
	norm, err := hyperdrive.ResolvePath("/", key)
	if err != nil || norm != key || norm == "/" || strings.IndexByte(key, 0) >= 0 {
		return fmt.Errorf("%w %q: not a plain path inside the folder", errUnsafePath, key)
	}
	parts := strings.Split(key[1:], "/")
	p := root
	for i, part := range parts[:len(parts)-1] {
		p = filepath.Join(p, part)
		st, err := os.Lstat(p)
		if err != nil {
			return nil // the rest is created as plain folders
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w %q: %s is a symbolic link", errUnsafePath, key, "/"+strings.Join(parts[:i+1], "/"))
		}
	}
	return nil
}

// exportDrive is a folder as the destination of a drive's export: a
// localdrive whose writes never leave the folder. Keys are checked with
// checkExportPath, a link about to be replaced by a file is removed first
// (so that the write does not go through it), and files are written to a
// temporary name and renamed into place. Links are written as the drive
// holds them, and never followed.
//
// It has only the methods a mirror destination needs, so that no write
// bypasses the checks.
type exportDrive struct {
	ld   *localdrive.Drive
	root string
}

var _ mirrordrive.Drive = (*exportDrive)(nil)

func newExportDrive(dir string) (*exportDrive, error) {
	d, err := localdrive.New(dir, &localdrive.Options{Atomic: true})
	if err != nil {
		return nil, err
	}
	return &exportDrive{ld: d, root: d.Root()}, nil
}

// ConcurrentWrites lets a mirror write several files at once
// (mirrordrive.ConcurrentWriter): the checks hold for each write on its
// own, since the mirror makes links alone, after the writes before them
// and before those after them.
func (d *exportDrive) ConcurrentWrites() bool { return true }

func (d *exportDrive) Entry(ctx context.Context, key string) (*hyperdrive.Entry, error) {
	return d.ld.Entry(ctx, key)
}

func (d *exportDrive) List(ctx context.Context, folder string, opts *hyperdrive.ListOptions) iter.Seq2[*hyperdrive.Entry, error] {
	return d.ld.List(ctx, folder, opts)
}

func (d *exportDrive) CreateReadStream(ctx context.Context, key string, opts *hyperdrive.ReadOptions) (io.ReadCloser, error) {
	return d.ld.CreateReadStream(ctx, key, opts)
}

func (d *exportDrive) CreateWriteStream(ctx context.Context, key string, opts *hyperdrive.PutOptions) (io.WriteCloser, error) {
	if err := checkExportPath(d.root, key); err != nil {
		return nil, err
	}
	name := filepath.Join(d.root, filepath.FromSlash(key))
	if st, err := os.Lstat(name); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		if err := os.Remove(name); err != nil {
			return nil, err
		}
	}
	return d.ld.CreateWriteStream(ctx, key, opts)
}

func (d *exportDrive) Symlink(ctx context.Context, key, linkname string) error {
	if err := checkExportPath(d.root, key); err != nil {
		return err
	}
	if strings.IndexByte(linkname, 0) >= 0 {
		return fmt.Errorf("%w %q: NUL in link target", errUnsafePath, key)
	}
	return d.ld.Symlink(ctx, key, linkname)
}

func (d *exportDrive) Del(ctx context.Context, key string) error {
	if err := checkExportPath(d.root, key); err != nil {
		return err
	}
	return d.ld.Del(ctx, key)
}
