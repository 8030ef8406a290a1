package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/gopear/gopear/internal/jsref"
)

// runJS runs a bench script (a path relative to the repository root, such as
// "bench/js/cenc.js") with args, and returns the "value" of the JSON line it
// prints on stdout.
func runJS(ctx context.Context, script string, args ...string) (float64, error) {
	root, err := jsref.Root()
	if err != nil {
		return 0, err
	}
	cmd, err := jsref.Command(filepath.Join(root, script), args...)
	if err != nil {
		return 0, err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := runCmd(ctx, cmd); err != nil {
		return 0, fmt.Errorf("node %s: %v: %s", script, err, stderr.String())
	}
	var out struct {
		Value float64 `json:"value"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return 0, fmt.Errorf("node %s printed %q: %v", script, stdout.String(), err)
	}
	return out.Value, nil
}

// jsWorkload returns a jsRun function for a script and its args.
func jsWorkload(script string, args ...string) func(context.Context) (float64, error) {
	return func(ctx context.Context) (float64, error) { return runJS(ctx, script, args...) }
}
