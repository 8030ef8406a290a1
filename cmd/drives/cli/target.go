package cli

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
)

// target is a <src> or <dst> argument: a drive key or a folder.
type target struct {
	arg   string
	isKey bool
	key   hypercore.Key
	dir   string // absolute folder, when !isKey
}

// parseTarget tells a key from a folder as JS drives does (lib/drive-id.js):
// an argument with a '/' or a '.' is a folder, one of 52 or 64 characters
// a key (which must then parse), anything else a folder. A pear:// link is
// a key.
func parseTarget(arg string) (target, error) {
	if arg == "" {
		return target{}, errors.New("empty drive argument")
	}
	if strings.HasPrefix(arg, "pear://") || (!strings.ContainsAny(arg, "/.") && (len(arg) == 52 || len(arg) == 64)) {
		k, err := parseKey(arg)
		if err != nil {
			return target{}, err
		}
		return target{arg: arg, isKey: true, key: k}, nil
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return target{}, err
	}
	return target{arg: arg, dir: abs}, nil
}

// parseKey parses a drive key: z-base-32, hex or a pear:// link.
func parseKey(arg string) (hypercore.Key, error) {
	k, err := hypercore.ParseKey(arg)
	if err != nil {
		return k, fmt.Errorf("invalid drive key %q: want 52 z-base-32 or 64 hex characters", arg)
	}
	return k, nil
}

// drive is what the commands read and write: a hyperdrive or a folder.
type drive interface {
	Entry(ctx context.Context, key string) (*hyperdrive.Entry, error)
	Readdir(ctx context.Context, folder string) iter.Seq2[string, error]
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, data []byte, opts *hyperdrive.PutOptions) error
	Del(ctx context.Context, key string) error
}

var (
	_ drive = (*hyperdrive.Drive)(nil)
	_ drive = (*localdrive.Drive)(nil)
)

// session is an open corestore, with the drives opened in it and its
// connections to peers. close releases everything.
type session struct {
	e      *env
	dir    string
	store  *corestore.Store
	drives []*hyperdrive.Drive
	net    *peers
}

// openSession opens the storage.
func (e *env) openSession(ctx context.Context) (*session, error) {
	dir, err := findStorage(e.storage)
	if err != nil {
		return nil, err
	}
	store, err := e.openStore(ctx, dir)
	if err != nil {
		return nil, err
	}
	return &session{e: e, dir: dir, store: store}, nil
}

func (s *session) close() error {
	var errs []error
	if s.net != nil {
		s.net.close()
	}
	for _, d := range s.drives {
		errs = append(errs, d.Close())
	}
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}

// openOptions say how [session.openDrive] opens a drive.
type openOptions struct {
	// writable: the drive must be writable here (its key pair stored).
	writable bool
	// local: the drive must be stored here; it is never fetched (purge).
	local bool
}

// openDrive opens the drive with key. A drive the storage does not hold
// is an error unless peers are given with --connect (it is then fetched).
func (s *session) openDrive(ctx context.Context, key hypercore.Key, o openOptions) (*hyperdrive.Drive, error) {
	has, err := s.store.Has(hypercore.DiscoveryKey(key))
	if err != nil {
		return nil, err
	}
	if !has && (o.writable || o.local || len(s.e.connect) == 0) {
		return nil, &errNoDrive{key: key, storage: s.dir, hint: !o.writable && !o.local}
	}
	d, err := hyperdrive.New(ctx, s.store, key, nil)
	if err != nil {
		return nil, fmt.Errorf("opening drive %s: %w", key, err)
	}
	s.drives = append(s.drives, d)
	if o.writable && !d.Writable() {
		return nil, fmt.Errorf("drive %s is not writable with storage %s", key, s.dir)
	}
	return d, nil
}

// needsStore reports whether any of ts is a key.
func needsStore(ts ...target) bool {
	for _, t := range ts {
		if t.isKey {
			return true
		}
	}
	return false
}

// mustBeFolder returns an error when a source folder does not exist, so
// that a mistyped key is not taken for an empty folder.
func mustBeFolder(t target) error {
	st, err := os.Stat(t.dir)
	if err != nil {
		return fmt.Errorf("%s: no such folder, and not a drive key", t.arg)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: not a folder", t.arg)
	}
	return nil
}

// fetch brings a drive up to date from the peers given with --connect:
// it dials them, waits until one of them serves the drive and updates the
// drive to the peers' latest version. Without --connect it checks that the
// drive's content is stored locally, so that reads cannot wait forever. It
// returns a context that ends when the connections do.
func (s *session) fetch(ctx context.Context, d *hyperdrive.Drive) (context.Context, error) {
	if len(s.e.connect) == 0 {
		if !d.Writable() && !complete(ctx, d) {
			return ctx, fmt.Errorf("drive %s is not fully stored in %s (use --connect HOST:PORT to fetch it from a peer)", d.Key(), s.dir)
		}
		return ctx, nil
	}
	if s.net == nil {
		p, err := s.e.dial(ctx, s.store)
		if err != nil {
			return ctx, err
		}
		s.net = p
	}
	ctx = s.net.bind(ctx)
	if err := s.net.waitPeer(ctx, d); err != nil {
		return ctx, err
	}
	if _, err := d.Core().Update(ctx, &hypercore.UpdateOptions{Force: d.Writable()}); err != nil {
		return ctx, s.net.explain(ctx, fmt.Errorf("updating drive %s: %w", d.Key(), err))
	}
	s.e.debugf("Drive %s at version %d", d.Key(), d.Version())
	return ctx, nil
}

// complete reports whether the db core and the blobs core of d are stored
// locally in full.
func complete(ctx context.Context, d *hyperdrive.Drive) bool {
	db := d.Core()
	if db.Length() == 0 || db.ContiguousLength() < db.Length() {
		return false
	}
	b, err := d.Blobs(ctx)
	if err != nil {
		return false
	}
	c, ok := b.Core().(*hypercore.Core)
	return !ok || c.ContiguousLength() >= c.Length()
}
