package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
)

// mirror --live, as JS drives 2.9 (bin/mirror.js with watch-drive): after
// the first mirror, each change of the source under the prefix is mirrored
// as it comes, until interrupted. JS watches a hyperdrive's db core
// (append and truncate events, then a diff from the version seen last) and
// a folder with fs.watch (localwatch); it then compares and copies the
// keys that changed, one by one. Here a drive source is watched with
// hyperdrive.Watch, a folder source is polled (livePoll), and the keys
// that changed are mirrored with mirrordrive's Entries, which compares
// them and copies or removes what differs.

// livePoll is how often mirror --live looks for changes in a folder
// source: it lists the folder and compares each file's modification time,
// size, executable bit and link target with the previous listing.
const livePoll = 500 * time.Millisecond

// checkLive checks the arguments of mirror --live.
func checkLive(src, dst target, f mirrorFlags, connect bool) error {
	if f.version != 0 {
		return errors.New("--live mirrors the latest version of the source: it cannot be used with --version")
	}
	if src.isKey && !connect {
		return errors.New("--live with a drive source needs --connect HOST:PORT: its changes come from a peer (the swarm is not available yet)")
	}
	if !src.isKey && !dst.isKey && within(dst.dir, src.dir) {
		return fmt.Errorf("--live: the destination %s is inside the source %s, so that each mirror would change the source", dst.arg, src.arg)
	}
	return nil
}

// within reports whether dir is root or a folder under it.
func within(dir, root string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// liveSource tells a live mirror when its source changed.
type liveSource interface {
	// next waits for a change of the source and returns what to mirror
	// from (for a drive, a checkout of its new version), that version (0
	// for a folder), and the keys that changed, or nil to mirror
	// everything under the prefix again.
	next(ctx context.Context) (src mirrordrive.Drive, version uint64, keys []string, err error)
}

// live mirrors each change of src until ctx ends or a mirror fails.
func (m *mirrorRun) live(ctx context.Context, src liveSource) error {
	m.e.debugf("Watching %s for changes (Ctrl-C to stop)", describeTarget(m.src))
	for {
		d, version, keys, err := src.next(ctx)
		if err != nil {
			return err
		}
		if keys != nil {
			// As JS, the filter applies to every key, removals included
			// (mirrordrive's prune pass does not filter).
			keys = slices.DeleteFunc(keys, func(k string) bool { return !m.filter(k) })
			if len(keys) == 0 {
				continue
			}
		}
		if err := m.run(ctx, d, version, keys, false); err != nil {
			return err
		}
	}
}

// driveSource is a hyperdrive source of a live mirror, watched under the
// prefix.
type driveSource struct {
	d      *hyperdrive.Drive // the live drive
	w      *hyperdrive.Watcher
	prefix string

	mirrored *hyperdrive.Drive // checkout of the version mirrored last
	fork     uint64            // the db core's fork then
}

// start records the version the first mirror copies.
func (s *driveSource) start(snap *hyperdrive.Drive) {
	s.mirrored = snap
	s.fork = s.d.Core().Fork()
}

func (s *driveSource) next(ctx context.Context) (mirrordrive.Drive, uint64, []string, error) {
	for {
		u, err := s.w.Next(ctx)
		if err != nil {
			return nil, 0, nil, err
		}
		cur, prev := u.Current, s.mirrored
		s.mirrored = cur
		if fork := s.d.Core().Fork(); fork != s.fork || cur.Version() < prev.Version() {
			// Truncated: the versions share no history to diff.
			s.fork = fork
			return cur, cur.Version(), nil, nil
		}
		// From the version mirrored last, not the update's previous one:
		// the watcher starts before the first mirror's version.
		var keys []string
		for de, err := range cur.Diff(ctx, prev.Version(), s.prefix) {
			if err != nil {
				return nil, 0, nil, err
			}
			if de.Left != nil {
				keys = append(keys, de.Left.Key)
			} else {
				keys = append(keys, de.Right.Key)
			}
		}
		if len(keys) > 0 {
			return cur, cur.Version(), keys, nil
		}
	}
}

// folderSource is a folder source of a live mirror, polled every
// livePoll.
type folderSource struct {
	d      *localdrive.Drive
	prefix string
	last   map[string]fileState // the previous listing
}

// fileState is what a poll compares of a file or link.
type fileState struct {
	mtime      time.Time
	size       uint64
	executable bool
	linkname   string
}

// newFolderSource lists the folder now: the first poll reports what
// changed since.
func newFolderSource(ctx context.Context, d *localdrive.Drive, prefix string) (*folderSource, error) {
	s := &folderSource{d: d, prefix: prefix}
	last, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	s.last = last
	return s, nil
}

// scan lists the files under the prefix, skipping the folders drives
// always ignores (.git, .drives, ...), and the prefix itself, which a
// mirror also copies when it is a file.
func (s *folderSource) scan(ctx context.Context) (map[string]fileState, error) {
	out := make(map[string]fileState)
	add := func(e *hyperdrive.Entry) {
		st := fileState{mtime: e.Mtime, executable: e.Value.Executable, linkname: e.Value.Linkname}
		if e.Value.Blob != nil {
			st.size = e.Value.Blob.ByteLength
		}
		out[e.Key] = st
	}
	ignore := func(key string) bool { return defaultIgnore.MatchString(key) }
	for e, err := range s.d.List(ctx, s.prefix, &hyperdrive.ListOptions{Ignore: ignore}) {
		if err != nil {
			return nil, err
		}
		add(e)
	}
	if s.prefix != "/" {
		e, err := s.d.Entry(ctx, s.prefix)
		if err != nil {
			return nil, err
		}
		if e != nil {
			add(e)
		}
	}
	return out, nil
}

func (s *folderSource) next(ctx context.Context) (mirrordrive.Drive, uint64, []string, error) {
	tick := time.NewTicker(livePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, 0, nil, ctx.Err()
		case <-tick.C:
		}
		cur, err := s.scan(ctx)
		if err != nil {
			return nil, 0, nil, err
		}
		keys := changedKeys(s.last, cur)
		s.last = cur
		if len(keys) > 0 {
			return s.d, 0, keys, nil
		}
	}
}

// changedKeys returns the keys, sorted, whose state differs between two
// listings: added, changed or gone.
func changedKeys(before, after map[string]fileState) []string {
	var keys []string
	for k, st := range after {
		if old, ok := before[k]; !ok || !old.mtime.Equal(st.mtime) || old.size != st.size ||
			old.executable != st.executable || old.linkname != st.linkname {
			keys = append(keys, k)
		}
	}
	for k := range maps.Keys(before) {
		if _, ok := after[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
