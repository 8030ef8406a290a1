// Package jsref runs scripts against the pinned JS reference in the
// repository's interop/ folder. The interop tests of every package and the
// bench harness use it; it is not part of gopear's API.
//
// Scripts live under interop/ (interop/<package>/<name>.js) and resolve
// their require() calls from interop/node_modules, which `make test`
// installs with `npm ci`. A script talks to Go in one of two ways: it prints
// its result on stdout (see [Output], [JSON]), or it exchanges JSON lines on
// stdin and stdout for as long as the test needs (see [Start]).
//
// When node or interop/node_modules is missing, tests that need the
// reference are skipped with a message naming `make test`, unless
// GOPEAR_REQUIRE_INTEROP=1 is set (as `make test` and CI set it), in which
// case they fail.
package jsref

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// RequireEnv is the environment variable that turns a missing JS reference
// from a skip into a failure.
const RequireEnv = "GOPEAR_REQUIRE_INTEROP"

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// Root returns the repository root: the nearest parent of the working
// directory that holds go.mod.
func Root() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("jsref: no go.mod above the working directory")
				return
			}
			dir = parent
		}
	})
	return rootDir, rootErr
}

// Dir returns the interop/ folder, after checking that node is on PATH and
// that the pinned reference is installed in interop/node_modules.
func Dir() (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("jsref: node is not on PATH (run `make test`, which needs Node 20): %w", err)
	}
	dir := filepath.Join(root, "interop")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "hypercore", "package.json")); err != nil {
		return "", fmt.Errorf("jsref: the JS reference is not installed in interop/node_modules (run `make test`, or `npm ci` in interop/): %w", err)
	}
	return dir, nil
}

// Command returns an *exec.Cmd that runs the script at path (relative to
// interop/) with node, in interop/, with NODE_PATH set so that scripts
// outside interop/ (for example the bench workloads) resolve the pinned
// reference too.
func Command(script string, args ...string) (*exec.Cmd, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	root := filepath.Dir(dir)
	path := script
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, script)
	}
	cmd := exec.Command("node", append([]string{path}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"), "GOPEAR_ROOT="+root)
	return cmd, nil
}
