package cli

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"path/filepath"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
	"github.com/spf13/cobra"
)

func (e *env) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Initializes a new storage on the cwd",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := filepath.Join(storageDir, "corestore")
			if e.storage != "" {
				dir = filepath.Join(e.storage, "corestore")
			}
			dir, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			existed := exists(dir)
			store, err := corestore.Open(cmd.Context(), dir, nil)
			if err != nil {
				return storageError(dir, err)
			}
			if err := store.Close(); err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]any{"storage": dir, "created": !existed})
			}
			if existed {
				e.printf("Storage: %s", dir)
			} else {
				e.printf("New storage at %s", dir)
			}
			return nil
		},
	}
}

func (e *env) touchCommand() *cobra.Command {
	var useCwd bool
	c := &cobra.Command{
		Use:   "touch",
		Short: "Create a writable Hyperdrive",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := findStorage(e.storage)
			if err != nil {
				return err
			}
			if !exists(dir) {
				e.infof("Notice: new storage at %s", dir)
			}
			name, err := touchName(useCwd)
			if err != nil {
				return err
			}
			key, err := createDrive(cmd.Context(), dir, name)
			if err != nil {
				return fmt.Errorf("creating a drive: %w", err)
			}
			if e.json {
				return e.printJSON(map[string]any{"key": key.String()})
			}
			e.printf("New drive: %s", key)
			return nil
		},
	}
	c.Flags().BoolVar(&useCwd, "use-cwd", false, "Use cwd as the namespace")
	return c
}

// withDrive opens the drive or folder arg and runs fn on it. A key is
// opened in the storage (fetched with --connect unless writable is set,
// in which case it must be writable here); a folder must exist unless
// writable is set.
func (e *env) withDrive(ctx context.Context, arg string, writable bool, fn func(ctx context.Context, d drive, hd *hyperdrive.Drive) error) error {
	t, err := parseTarget(arg)
	if err != nil {
		return err
	}
	if !t.isKey {
		if !writable {
			if err := mustBeFolder(t); err != nil {
				return err
			}
		}
		d, err := localdrive.New(t.dir, nil)
		if err != nil {
			return err
		}
		return fn(ctx, d, nil)
	}
	return e.withStoredDrive(ctx, t.key, openOptions{writable: writable}, !writable, func(ctx context.Context, _ *session, d *hyperdrive.Drive) error {
		return fn(ctx, d, d)
	})
}

// drivePath normalises a path argument as JS does (unix-path-resolve
// against "/"), refusing the paths drives ignores.
func drivePath(p string, allowRoot bool) (string, error) {
	key, err := hyperdrive.ResolvePath("/", p)
	if err != nil {
		return "", fmt.Errorf("invalid path %q", p)
	}
	if key == "/" && !allowRoot {
		return "", fmt.Errorf("invalid path %q: not a file", p)
	}
	if !newFilter(nil)(key) {
		return "", fmt.Errorf("%s: path ignored by drives", key)
	}
	return key, nil
}

func (e *env) putCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "put <src> <path> <content>",
		Short: "Create a file",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := drivePath(args[1], false)
			if err != nil {
				return err
			}
			return e.withDrive(cmd.Context(), args[0], true, func(ctx context.Context, d drive, hd *hyperdrive.Drive) error {
				if err := d.Put(ctx, key, []byte(args[2]), nil); err != nil {
					return err
				}
				if e.json {
					out := map[string]any{"key": key}
					if hd != nil {
						out["version"] = hd.Version()
					}
					return e.printJSON(out)
				}
				e.printf("File saved.")
				return nil
			})
		},
	}
	return c
}

// entryJSON is an entry as --json prints it: a hyperbee node, as JS's
// drive.entry returns it.
type entryJSON struct {
	Seq   uint64                `json:"seq"`
	Key   string                `json:"key"`
	Value hyperdrive.EntryValue `json:"value"`
}

func (e *env) entryCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "entry <src> <path>",
		Short: "Show a single entry file",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := drivePath(args[1], false)
			if err != nil {
				return err
			}
			return e.withDrive(cmd.Context(), args[0], false, func(ctx context.Context, d drive, hd *hyperdrive.Drive) error {
				ent, err := d.Entry(ctx, key)
				if err != nil {
					return err
				}
				if ent == nil {
					return fmt.Errorf("%s: entry not found", key)
				}
				if e.json {
					return e.printJSON(entryJSON{Seq: ent.Seq, Key: ent.Key, Value: ent.Value})
				}
				v := ent.Value
				e.printf("Sequence: %d", ent.Seq)
				e.printf("Key: %s", ent.Key)
				e.printf("Executable? %t", v.Executable)
				if v.Linkname != "" {
					e.printf("Linkname: %s", v.Linkname)
				} else {
					e.printf("Linkname: null")
				}
				if v.Blob != nil {
					e.printf("Blob size: %s", byteSize(v.Blob.ByteLength))
				} else {
					e.printf("Blob: null")
				}
				if v.Metadata != nil {
					e.printf("Metadata: %s", v.Metadata)
				} else {
					e.printf("Metadata: null")
				}
				return nil
			})
		},
	}
	e.netFlags(c)
	return c
}

func (e *env) getCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "get <src> <path>",
		Short: "Show the file content",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := drivePath(args[1], false)
			if err != nil {
				return err
			}
			return e.withDrive(cmd.Context(), args[0], false, func(ctx context.Context, d drive, hd *hyperdrive.Drive) error {
				ent, err := d.Entry(ctx, key)
				if err != nil {
					return err
				}
				if ent == nil || ent.Value.Blob == nil {
					return fmt.Errorf("%s: file not found", key)
				}
				b, err := d.Get(ctx, key)
				if err != nil {
					return err
				}
				if e.json {
					return e.printJSON(map[string]any{"key": key, "content": string(b)})
				}
				_, err = e.stdout.Write(b)
				return err
			})
		},
	}
	e.netFlags(c)
	return c
}

// lsJSON is one line of ls --json.
type lsJSON struct {
	Name       string `json:"name"`
	Key        string `json:"key"`
	Type       string `json:"type"` // "file", "symlink" or "directory"
	Size       uint64 `json:"size"`
	Executable bool   `json:"executable"`
	Linkname   string `json:"linkname,omitempty"`
}

func (e *env) lsCommand() *cobra.Command {
	var recursive bool
	var prefix string
	c := &cobra.Command{
		Use:   "ls <src> [path]",
		Short: "List files of the drive",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder := prefix
			if len(args) == 2 {
				if prefix != "" {
					return errors.New("can not use the path argument with --prefix")
				}
				folder = args[1]
			}
			folder, err := hyperdrive.ResolvePath("/", folder)
			if err != nil {
				return fmt.Errorf("invalid path %q", args[1])
			}
			filter := newFilter(nil)
			if !filter(folder) {
				return nil
			}
			return e.withDrive(cmd.Context(), args[0], false, func(ctx context.Context, d drive, hd *hyperdrive.Drive) error {
				out := []lsJSON{}
				add := func(name string, ent *hyperdrive.Entry) {
					l := lsJSON{Name: name, Type: "directory"}
					l.Key, _ = hyperdrive.ResolvePath(folder, name)
					if ent != nil {
						l.Key = ent.Key
						l.Executable = ent.Value.Executable
						switch {
						case ent.Value.Linkname != "":
							l.Type, l.Linkname = "symlink", ent.Value.Linkname
						default:
							l.Type = "file"
							if ent.Value.Blob != nil {
								l.Size = ent.Value.Blob.ByteLength
							}
						}
					}
					out = append(out, l)
					if !e.json {
						e.printf("%s", formatLs(l))
					}
				}
				if recursive {
					for ent, err := range listDrive(ctx, d, folder) {
						if err != nil {
							return err
						}
						if filter(ent.Key) {
							add(ent.Key, ent)
						}
					}
				} else {
					for name, err := range d.Readdir(ctx, folder) {
						if err != nil {
							return err
						}
						key, err := hyperdrive.ResolvePath(folder, name)
						if err != nil || !filter(key) {
							continue
						}
						ent, err := d.Entry(ctx, key)
						if err != nil {
							return err
						}
						add(name, ent)
					}
				}
				if e.json {
					return e.printJSON(out)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVarP(&recursive, "recursive", "r", false, "Recursive listing")
	c.Flags().StringVar(&prefix, "prefix", "", "Prefix entries path")
	e.netFlags(c)
	return c
}

// formatLs formats a line of ls as JS drives does, without colours: a
// file with its size, a link with its target, a folder with a '/'.
func formatLs(l lsJSON) string {
	switch l.Type {
	case "symlink":
		return l.Name + " -> " + l.Linkname
	case "file":
		return l.Name + " (" + byteSize(l.Size) + ")"
	}
	return l.Name + "/"
}

// listDrive lists a hyperdrive or a folder recursively.
func listDrive(ctx context.Context, d drive, folder string) iter.Seq2[*hyperdrive.Entry, error] {
	switch d := d.(type) {
	case *hyperdrive.Drive:
		return d.List(ctx, folder, nil)
	case *localdrive.Drive:
		return d.List(ctx, folder, nil)
	}
	return func(yield func(*hyperdrive.Entry, error) bool) {
		yield(nil, fmt.Errorf("cannot list %T", d))
	}
}

func (e *env) rmCommand() *cobra.Command {
	var recursive bool
	c := &cobra.Command{
		Use:   "rm <src> <path>",
		Short: "Delete a file",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := drivePath(args[1], recursive)
			if err != nil {
				return err
			}
			return e.withDrive(cmd.Context(), args[0], true, func(ctx context.Context, d drive, hd *hyperdrive.Drive) error {
				var keys []string
				if recursive {
					for ent, err := range listDrive(ctx, d, key) {
						if err != nil {
							return err
						}
						keys = append(keys, ent.Key)
					}
				} else {
					ent, err := d.Entry(ctx, key)
					if err != nil {
						return err
					}
					if ent == nil {
						return fmt.Errorf("%s: entry not found", key)
					}
					keys = append(keys, key)
				}
				if hd != nil && len(keys) > 1 {
					b := hd.Batch()
					for _, k := range keys {
						if err := b.Del(ctx, k); err != nil {
							b.Close()
							return err
						}
					}
					if err := b.Flush(ctx); err != nil {
						b.Close()
						return err
					}
				} else {
					for _, k := range keys {
						if err := d.Del(ctx, k); err != nil {
							return err
						}
					}
				}
				if e.json {
					return e.printJSON(map[string]any{"deleted": keys})
				}
				if len(keys) == 1 {
					e.printf("File deleted.")
				} else {
					e.printf("%d files deleted.", len(keys))
				}
				return nil
			})
		},
	}
	c.Flags().BoolVarP(&recursive, "recursive", "r", false, "Recursively delete all sub files")
	return c
}

// coreJSON describes one core of a drive in info --json.
type coreJSON struct {
	Key              string `json:"key"`
	Length           uint64 `json:"length"`
	ContiguousLength uint64 `json:"contiguousLength"`
	ByteLength       uint64 `json:"byteLength"`
}

func describeCore(c *hypercore.Core) *coreJSON {
	return &coreJSON{Key: c.Key().String(), Length: c.Length(), ContiguousLength: c.ContiguousLength(), ByteLength: c.ByteLength()}
}

// withKeyDrive opens the drive with the key arg in the storage and runs fn.
func (e *env) withKeyDrive(ctx context.Context, arg string, fetch bool, fn func(ctx context.Context, s *session, d *hyperdrive.Drive) error) error {
	key, err := parseKey(arg)
	if err != nil {
		return err
	}
	return e.withStoredDrive(ctx, key, openOptions{}, fetch && len(e.connect) > 0, fn)
}

// withStoredDrive opens the drive key in the storage with o and runs fn
// on it, fetching it first (see session.fetch) if fetch is set. Errors
// met with peers are explained, and the session is closed.
func (e *env) withStoredDrive(ctx context.Context, key hypercore.Key, o openOptions, fetch bool, fn func(ctx context.Context, s *session, d *hyperdrive.Drive) error) error {
	s, err := e.openSession(ctx)
	if err != nil {
		return err
	}
	err = func() error {
		d, err := s.openDrive(ctx, key, o)
		if err != nil {
			return err
		}
		if fetch {
			if ctx, err = s.fetch(ctx, d); err != nil {
				return err
			}
		}
		err = fn(ctx, s, d)
		if err != nil && s.net != nil {
			err = s.net.explain(ctx, err)
		}
		return err
	}()
	return errors.Join(err, s.close())
}

// infoJSON is the output of info --json.
type infoJSON struct {
	Key          string `json:"key"`
	DiscoveryKey string `json:"discoveryKey"`
	Version      uint64 `json:"version"`
	Writable     bool   `json:"writable"`
	// ByteLength is the size of the drive: the byte lengths of its two
	// cores (entries and file contents).
	ByteLength uint64 `json:"byteLength"`
	// BlobsKey is the key of the blobs core (JS contentKey); null while
	// the drive's header is not stored.
	BlobsKey *string   `json:"blobsKey"`
	Files    *coreJSON `json:"files"`
	Blobs    *coreJSON `json:"blobs"`
}

func (e *env) infoCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "info <key>",
		Short: "Show info about the Hyperdrive",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withKeyDrive(cmd.Context(), args[0], true, func(ctx context.Context, s *session, d *hyperdrive.Drive) error {
				files := describeCore(d.Core())
				var blobs *coreJSON
				if b, ok := blobsCore(d); ok {
					blobs = describeCore(b)
				}
				size := files.ByteLength
				if blobs != nil {
					size += blobs.ByteLength
				}
				if e.json {
					out := infoJSON{
						Key:          d.Key().String(),
						DiscoveryKey: d.DiscoveryKey().String(),
						Version:      d.Version(),
						Writable:     d.Writable(),
						ByteLength:   size,
						Files:        files,
						Blobs:        blobs,
					}
					if blobs != nil {
						out.BlobsKey = &blobs.Key
					}
					return e.printJSON(out)
				}
				e.printf("Key: %s", d.Key())
				e.printf("Discovery key: %s", d.DiscoveryKey())
				if blobs != nil {
					e.printf("Content key: %s", blobs.Key)
				}
				e.printf("Version: %d", d.Version())
				e.printf("Writable? %t", d.Writable())
				e.printf("Files core length: %d/%d", files.ContiguousLength, files.Length)
				if blobs != nil {
					e.printf("Blobs core length: %d/%d", blobs.ContiguousLength, blobs.Length)
				}
				e.printf("Drive size: %s", byteSize(size))
				return nil
			})
		},
	}
	e.netFlags(c)
	return c
}

// blobsCore returns the drive's blobs core when it is open (its header is
// stored); it never waits for peers.
func blobsCore(d *hyperdrive.Drive) (*hypercore.Core, bool) {
	if _, ok := d.ContentKey(); !ok {
		return nil, false
	}
	b, err := d.Blobs(context.Background())
	if err != nil {
		return nil, false
	}
	c, ok := b.Core().(*hypercore.Core)
	return c, ok
}

// purgeJSON is the output of purge --json.
type purgeJSON struct {
	// Key is the drive's key (its db core's).
	Key string `json:"key"`
	// BlobsKey is the key of the blobs core deleted with it; null when the
	// drive's header was not stored, so that there was no blobs core.
	BlobsKey *string `json:"blobsKey"`
}

func (e *env) purgeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "purge <key>",
		Short: "Delete all local storage of the drive",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := parseKey(args[0])
			if err != nil {
				return err
			}
			return e.withStoredDrive(cmd.Context(), key, openOptions{local: true}, false, func(ctx context.Context, s *session, d *hyperdrive.Drive) error {
				e.printf("Deleting drive...")
				out := purgeJSON{Key: d.Key().String()}
				if b, ok := blobsCore(d); ok {
					k := b.Key().String()
					out.BlobsKey = &k
				}
				if err := d.Purge(ctx); err != nil {
					return fmt.Errorf("deleting drive %s: %w", d.Key(), err)
				}
				if e.json {
					return e.printJSON(out)
				}
				e.printf("Drive deleted.")
				return nil
			})
		},
	}
}
