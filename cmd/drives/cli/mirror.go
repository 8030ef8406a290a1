package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
	"github.com/spf13/cobra"
)

// mirrorFlags are the flags of mirror.
type mirrorFlags struct {
	live    bool
	prefix  string
	filter  []string
	dryRun  bool
	version uint64
	silent  bool
}

// changeJSON is one change in mirror --json.
type changeJSON struct {
	Op           string `json:"op"`
	Key          string `json:"key"`
	BytesAdded   uint64 `json:"bytesAdded"`
	BytesRemoved uint64 `json:"bytesRemoved"`
}

// countJSON is mirror's count in mirror --json, as JS's mirror.count.
type countJSON struct {
	Files  int `json:"files"`
	Add    int `json:"add"`
	Remove int `json:"remove"`
	Change int `json:"change"`
}

// mirrorJSON is the output of mirror --json.
type mirrorJSON struct {
	Source       string       `json:"source"`
	Destination  string       `json:"destination"`
	Version      uint64       `json:"version,omitempty"` // of a hyperdrive destination
	Count        countJSON    `json:"count"`
	BytesAdded   uint64       `json:"bytesAdded"`
	BytesRemoved uint64       `json:"bytesRemoved"`
	Changes      []changeJSON `json:"changes"`
	Skipped      []string     `json:"skipped,omitempty"`
}

func (e *env) mirrorCommand() *cobra.Command {
	var f mirrorFlags
	c := &cobra.Command{
		Use:   "mirror <src> <dst>",
		Short: "Mirror a drive into another drive",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.mirror(cmd.Context(), args[0], args[1], f)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&f.live, "live", false, "Enables real-time sharing (not implemented yet)")
	fl.StringVar(&f.prefix, "prefix", "/", "Prefix entries path")
	fl.StringSliceVar(&f.filter, "filter", nil, "Ignore entries matching these patterns")
	fl.BoolVar(&f.dryRun, "dry-run", false, "Disables writing")
	fl.Uint64Var(&f.version, "version", 0, "Use a specific version of a drive source")
	fl.BoolVar(&f.silent, "silent", false, "Print less information")
	fl.BoolVar(&e.verbose, "verbose", false, "Print more information")
	e.netFlags(c)
	return c
}

func (e *env) mirror(ctx context.Context, srcArg, dstArg string, f mirrorFlags) error {
	if f.live {
		return errors.New("--live is not implemented yet")
	}
	src, err := parseTarget(srcArg)
	if err != nil {
		return err
	}
	dst, err := parseTarget(dstArg)
	if err != nil {
		return err
	}
	if !src.isKey {
		if err := mustBeFolder(src); err != nil {
			return err
		}
	}
	if src.isKey && dst.isKey && src.key == dst.key {
		return errors.New("source and destination are the same drive")
	}
	prefix, err := hyperdrive.ResolvePath("/", f.prefix)
	if err != nil {
		return fmt.Errorf("invalid --prefix %q", f.prefix)
	}
	var s *session
	if needsStore(src, dst) {
		if s, err = e.openSession(ctx); err != nil {
			return err
		}
	}
	err = e.runMirror(ctx, s, src, dst, prefix, f)
	if s != nil {
		err = errors.Join(err, s.close())
	}
	return err
}

func (e *env) runMirror(ctx context.Context, s *session, src, dst target, prefix string, f mirrorFlags) (err error) {
	defer func() {
		// ctx is the one bound to the peers by then, if any: an error
		// because they went away says so.
		if err != nil && s != nil && s.net != nil {
			err = s.net.explain(ctx, err)
		}
	}()
	// The destination first: a drive destination must be writable here,
	// which is quick to check and needs no peer.
	var dstDrive mirrordrive.Drive
	var dstHyper *hyperdrive.Drive
	var export *exportDrive
	if dst.isKey {
		d, err := s.openDrive(ctx, dst.key, openOptions{writable: true})
		if err != nil {
			return err
		}
		dstDrive, dstHyper = d, d
	} else {
		d, err := newExportDrive(dst.dir)
		if err != nil {
			return err
		}
		dstDrive, export = d, d
	}

	var srcDrive mirrordrive.Drive
	if src.isKey {
		d, err := s.openDrive(ctx, src.key, openOptions{})
		if err != nil {
			return err
		}
		var fctx context.Context
		fctx, err = s.fetch(ctx, d)
		ctx = fctx
		if err != nil {
			return err
		}
		version := d.Version()
		if f.version != 0 {
			if f.version > version {
				return fmt.Errorf("--version %d: drive %s is at version %d", f.version, src.key, version)
			}
			version = f.version
		}
		snap := d.Checkout(version)
		if s.net != nil {
			if _, err := e.download(ctx, snap); err != nil {
				return fmt.Errorf("downloading drive %s: %w", src.key, err)
			}
		}
		srcDrive = snap
	} else {
		d, err := localdrive.New(src.dir, nil)
		if err != nil {
			return err
		}
		srcDrive = d
	}

	if e.verbose {
		e.infof("Source: %s", describeTarget(src))
		e.infof("Target: %s", describeTarget(dst))
	}
	if f.dryRun && !e.json {
		e.printf("NOTE: This is a dry run, no changes will be persisted.")
	}

	filter := newFilter(f.filter)
	var skipped []string
	if export != nil {
		base := filter
		filter = func(key string) bool {
			if !base(key) {
				return false
			}
			if err := e.checkExportEntry(ctx, srcDrive, export.root, key); err != nil {
				e.infof("drives: skipping %s", oneLine(err))
				skipped = append(skipped, key)
				return false
			}
			return true
		}
	}
	out := mirrorJSON{Source: src.String(), Destination: dst.String(), Changes: []changeJSON{}}
	res, err := mirrordrive.Mirror(ctx, srcDrive, dstDrive, &mirrordrive.Options{
		Prefix: []string{prefix},
		DryRun: f.dryRun,
		Filter: filter,
		// The drive is downloaded above; a preload would only list it
		// again, and call the filter, which prints, on a goroutine of
		// its own.
		NoPreload: true,
		Progress: func(c mirrordrive.Change) {
			if e.json {
				return
			}
			if f.silent {
				return
			}
			e.printf("%s", formatChange(c))
		},
	})
	if res != nil {
		out.Count = countJSON(res.Count)
		out.BytesAdded, out.BytesRemoved = res.BytesAdded, res.BytesRemoved
		for _, c := range res.Changes {
			out.Changes = append(out.Changes, changeJSON{Op: string(c.Op), Key: c.Key, BytesAdded: c.BytesAdded, BytesRemoved: c.BytesRemoved})
		}
	}
	if err != nil {
		return err
	}
	if dstHyper != nil {
		out.Version = dstHyper.Version()
	}
	out.Skipped = skipped
	if e.json {
		if err := e.printJSON(out); err != nil {
			return err
		}
	} else {
		version := ""
		if dstHyper != nil {
			version = fmt.Sprintf(" | Version: %d", out.Version)
		}
		if len(out.Changes) > 0 && !f.silent {
			e.printf("")
		}
		c := out.Count
		e.printf("✔ Total files: %d (+%d -%d ~%d)%s", c.Files, c.Add, c.Remove, c.Change, version)
	}
	if len(skipped) > 0 {
		return fmt.Errorf("%d unsafe entries were not written to %s", len(skipped), dst.dir)
	}
	return nil
}

// checkExportEntry checks that the source entry at key can be written
// under root: its path (checkExportPath) and, for a link, its target must
// be one localdrive can write as a link (an absolute target must be a
// drive path, which becomes a path under root).
func (e *env) checkExportEntry(ctx context.Context, src mirrordrive.Drive, root, key string) error {
	if err := checkExportPath(root, key); err != nil {
		return err
	}
	ent, err := src.Entry(ctx, key)
	if err != nil || ent == nil {
		return nil // the mirror reports it
	}
	if l := ent.Value.Linkname; l != "" {
		if strings.IndexByte(l, 0) >= 0 {
			return fmt.Errorf("%w %q: NUL in link target", errUnsafePath, key)
		}
		if strings.HasPrefix(l, "/") {
			if _, err := hyperdrive.ResolvePath("/", l); err != nil {
				return fmt.Errorf("%w %q: link target %q leaves the folder", errUnsafePath, key, l)
			}
		}
	}
	return nil
}

func (t target) String() string {
	if t.isKey {
		return t.key.String()
	}
	return t.dir
}

func describeTarget(t target) string {
	if t.isKey {
		return "(hyperdrive) " + t.key.String()
	}
	return "(localdrive) " + t.dir
}

// formatChange formats a change as JS drives does, without colours:
// "+ /a.txt 12 B", "- /b.txt 3 B", "~ /c.txt 10 B +2 B".
func formatChange(c mirrordrive.Change) string {
	symbol := map[mirrordrive.Op]string{mirrordrive.OpAdd: "+", mirrordrive.OpRemove: "-", mirrordrive.OpChange: "~"}[c.Op]
	if symbol == "" {
		symbol = "="
	}
	switch c.Op {
	case mirrordrive.OpRemove:
		return fmt.Sprintf("%s %s %s", symbol, c.Key, byteSize(c.BytesRemoved))
	case mirrordrive.OpChange:
		d := int64(c.BytesAdded) - int64(c.BytesRemoved)
		sign, abs := "", d
		if d > 0 {
			sign = "+"
		} else if d < 0 {
			sign, abs = "-", -d
		}
		return fmt.Sprintf("%s %s %s %s%s", symbol, c.Key, byteSize(c.BytesAdded), sign, byteSize(uint64(abs)))
	}
	return fmt.Sprintf("%s %s %s", symbol, c.Key, byteSize(c.BytesAdded))
}
