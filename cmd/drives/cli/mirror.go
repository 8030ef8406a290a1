package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// mirrorJSON is the output of mirror --json: one object, or with --live
// one line per run (see the package documentation).
type mirrorJSON struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// SourceVersion is the version of a hyperdrive source that was
	// mirrored (omitted for a folder).
	SourceVersion uint64       `json:"sourceVersion,omitempty"`
	Version       uint64       `json:"version,omitempty"` // of a hyperdrive destination
	Count         countJSON    `json:"count"`
	BytesAdded    uint64       `json:"bytesAdded"`
	BytesRemoved  uint64       `json:"bytesRemoved"`
	Changes       []changeJSON `json:"changes"`
	Skipped       []string     `json:"skipped,omitempty"`
}

func (e *env) mirrorCommand() *cobra.Command {
	var f mirrorFlags
	c := &cobra.Command{
		Use:   "mirror <src> <dst>",
		Short: "Mirror a drive into another drive",
		Long: "Mirror a drive into another drive. With --live, keep mirroring each change of the\n" +
			"source until interrupted: a drive source's changes come from the peers given with\n" +
			"--connect HOST:PORT, a folder source is checked for changes twice a second.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.mirror(cmd.Context(), args[0], args[1], f)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&f.live, "live", false, "Enables real-time sharing: mirror each change of the source until interrupted")
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
	if f.live {
		if err := checkLive(src, dst, f, len(e.connect) > 0); err != nil {
			return err
		}
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

// mirrorRun is one mirror command: what its runs share (one run without
// --live; with it, the first and then one per change of the source).
type mirrorRun struct {
	e        *env
	f        mirrorFlags
	src, dst target
	prefix   string
	// filter is the filter of --filter and the paths drives ignores.
	filter   func(key string) bool
	dstDrive mirrordrive.Drive
	dstHyper *hyperdrive.Drive // dstDrive, when it is a hyperdrive
	export   *exportDrive      // dstDrive, when it is a folder
	skipped  int               // unsafe entries not written, over all runs
}

func (e *env) runMirror(ctx context.Context, s *session, src, dst target, prefix string, f mirrorFlags) (err error) {
	defer func() {
		// ctx is the one bound to the peers by then, if any: an error
		// because they went away says so.
		if err != nil && s != nil && s.net != nil {
			err = s.net.explain(ctx, err)
		}
	}()
	m := &mirrorRun{e: e, f: f, src: src, dst: dst, prefix: prefix, filter: newFilter(f.filter)}
	// The destination first: a drive destination must be writable here,
	// which is quick to check and needs no peer.
	if dst.isKey {
		d, err := s.openDrive(ctx, dst.key, openOptions{writable: true})
		if err != nil {
			return err
		}
		m.dstDrive, m.dstHyper = d, d
	} else {
		d, err := newExportDrive(dst.dir)
		if err != nil {
			return err
		}
		m.dstDrive, m.export = d, d
	}

	user := ctx // before it is bound to peers
	var srcDrive mirrordrive.Drive
	var srcVersion uint64
	var live liveSource
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
		if f.live {
			// Watched from before the version mirrored first: a change
			// made meanwhile is not missed.
			w, err := d.Watch(prefix)
			if err != nil {
				return err
			}
			defer w.Close()
			live = &driveSource{d: d, w: w, prefix: prefix}
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
		srcDrive, srcVersion = snap, version
		if ds, ok := live.(*driveSource); ok {
			ds.start(snap)
		}
	} else {
		d, err := localdrive.New(src.dir, nil)
		if err != nil {
			return err
		}
		srcDrive = d
		if f.live {
			if s != nil && len(e.connect) > 0 {
				// The destination drive is served to the peers while the
				// mirror is live, as JS drives joins the swarm with it.
				p, err := e.dial(ctx, s.store)
				if err != nil {
					return err
				}
				s.net = p
				ctx = p.bind(ctx)
			}
			// Scanned before the first mirror, for the same reason.
			if live, err = newFolderSource(ctx, d, prefix); err != nil {
				return err
			}
		}
	}

	if e.verbose {
		e.infof("Source: %s", describeTarget(src))
		e.infof("Target: %s", describeTarget(dst))
	}
	if f.dryRun && !e.json {
		e.printf("NOTE: This is a dry run, no changes will be persisted.")
	}
	err = m.run(ctx, srcDrive, srcVersion, nil, true)
	if err == nil && live != nil {
		err = m.live(ctx, live)
		if user.Err() != nil {
			// Interrupted: the normal end of a live mirror.
			err = nil
		}
	}
	if m.skipped > 0 {
		err = errors.Join(err, fmt.Errorf("%d unsafe entries were not written to %s", m.skipped, dst.dir))
	}
	return err
}

// run mirrors src (version srcVersion of a hyperdrive, or a folder) into
// the destination, and prints what it did: the keys given, or everything
// under the prefix when keys is nil. first marks the first run, which
// prints the total.
func (m *mirrorRun) run(ctx context.Context, src mirrordrive.Drive, srcVersion uint64, keys []string, first bool) error {
	e, f := m.e, m.f
	filter := m.filter
	var skipped []string
	if m.export != nil && keys != nil {
		// The keys of a live run also go through the prune pass, which
		// does not filter: a key that cannot be written cannot be
		// removed either.
		keys = slices.DeleteFunc(slices.Clone(keys), func(key string) bool {
			if err := checkExportPath(m.export.root, key); err != nil {
				e.infof("drives: skipping %s", oneLine(err))
				skipped = append(skipped, key)
				return true
			}
			return false
		})
	}
	if m.export != nil {
		base := filter
		filter = func(key string) bool {
			if !base(key) {
				return false
			}
			if err := e.checkExportEntry(ctx, src, m.export.root, key); err != nil {
				e.infof("drives: skipping %s", oneLine(err))
				skipped = append(skipped, key)
				return false
			}
			return true
		}
	}
	out := mirrorJSON{Source: m.src.String(), Destination: m.dst.String(), SourceVersion: srcVersion, Changes: []changeJSON{}}
	res, err := mirrordrive.Mirror(ctx, src, m.dstDrive, &mirrordrive.Options{
		Prefix:  []string{m.prefix},
		Entries: keys,
		DryRun:  f.dryRun,
		Filter:  filter,
		// A drive source is downloaded before the first run, and a later
		// run reads a few changed files; a preload would only list the
		// drive again, and call the filter, which prints, on a goroutine
		// of its own.
		NoPreload: true,
		Progress: func(c mirrordrive.Change) {
			if e.json || f.silent {
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
	m.skipped += len(skipped)
	if err != nil {
		return err
	}
	if m.dstHyper != nil {
		out.Version = m.dstHyper.Version()
	}
	out.Skipped = skipped
	switch {
	case e.json && f.live:
		// One line per run that did something, for scripts to read as
		// they come.
		if first || len(out.Changes) > 0 || len(skipped) > 0 {
			return e.printJSONLine(out)
		}
	case e.json:
		return e.printJSON(out)
	case first:
		version := ""
		if m.dstHyper != nil {
			version = fmt.Sprintf(" | Version: %d", out.Version)
		}
		if len(out.Changes) > 0 && !f.silent {
			e.printf("")
		}
		c := out.Count
		e.printf("✔ Total files: %d (+%d -%d ~%d)%s", c.Files, c.Add, c.Remove, c.Change, version)
		if f.live {
			e.printf("")
		}
	}
	return nil
}

// printJSONLine writes v as one line of JSON.
func (e *env) printJSONLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(append(b, '\n'))
	return err
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
