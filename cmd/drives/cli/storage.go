package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
)

// storageDir is the folder the drives CLI keeps its corestore in inside a
// project folder or the home folder, as JS drives does.
const storageDir = ".drives"

// findStorage returns the corestore folder to use, as JS drives'
// findCorestore does: <flag>/corestore when --storage is given; else the
// first <dir>/.drives/corestore that exists in the working folder or one of
// its parents; else ~/.drives/corestore.
func findStorage(flag string) (string, error) {
	if flag != "" {
		abs, err := filepath.Abs(flag)
		if err != nil {
			return "", err
		}
		return filepath.Join(abs, "corestore"), nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		cand := filepath.Join(dir, storageDir, "corestore")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no --storage given, no %s folder found and no home folder: %w", storageDir, err)
	}
	return filepath.Join(home, storageDir, "corestore"), nil
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// openStore opens the corestore in dir, saying on stderr with --verbose
// when it is new (JS prints that notice always; here a failing command
// prints one line only).
func (e *env) openStore(ctx context.Context, dir string) (*corestore.Store, error) {
	if !exists(dir) {
		e.debugf("Notice: new storage at %s", dir)
	} else {
		e.debugf("Storage: %s", dir)
	}
	store, err := corestore.Open(ctx, dir, nil)
	if err != nil {
		return nil, storageError(dir, err)
	}
	return store, nil
}

// storageError explains a failure to open the storage in dir.
func storageError(dir string, err error) error {
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("storage %s is in use by another process (a drives seed or serve?)", dir)
	}
	return fmt.Errorf("opening storage %s: %w", dir, err)
}

// createDrive makes a new writable drive in the corestore at dir, in the
// store namespace called name, as JS drives touch does (new
// Hyperdrive(store.namespace(name))): its db core has the key pair the
// store derives for the name "db" in that namespace, and its blobs core the
// key pair hyperdrive derives from it. The empty name is the store's root
// namespace (JS new Hyperdrive(store)). It returns the drive's key; a
// drive made before with the same name is opened again.
func createDrive(ctx context.Context, dir, name string) (key hypercore.Key, err error) {
	store, err := corestore.Open(ctx, dir, nil)
	if err != nil {
		return hypercore.Key{}, storageError(dir, err)
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	ns := store
	if name != "" {
		ns = store.Namespace(name)
	}
	d, err := hyperdrive.New(ctx, ns, hypercore.Key{}, nil)
	if err != nil {
		return hypercore.Key{}, err
	}
	key = d.Key()
	if _, err := d.Blobs(ctx); err != nil {
		return key, errors.Join(err, d.Close())
	}
	return key, d.Close()
}

// touchName returns the namespace a new drive is made in: the working
// folder with --use-cwd (so that the same folder always gives the same
// drive), else a fresh name, as JS uses process.hrtime.
func touchName(useCwd bool) (string, error) {
	if useCwd {
		return filepath.Abs(".")
	}
	return strconv.FormatInt(time.Now().UnixNano(), 10), nil
}

// errNoDrive is the error of a drive key that is not in the storage.
type errNoDrive struct {
	key     hypercore.Key
	storage string
	hint    bool
}

func (e *errNoDrive) Error() string {
	msg := fmt.Sprintf("drive %s not found in storage %s", e.key, e.storage)
	if e.hint {
		msg += " (use --connect HOST:PORT to fetch it from a peer)"
	}
	return msg
}

func (e *errNoDrive) Is(target error) bool { return target == fs.ErrNotExist }
