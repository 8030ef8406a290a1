// Package layers holds the test that keeps gopear's import graph one-way, as
// DESIGN.md lays it out: a package imports only from its own layer or below,
// and the data column (hypercore ... autobase) and the network column (udx ...
// hyperswarm) never import each other.
package layers

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gopear/gopear"

// allowed maps each building-block package to the gopear packages it may
// import (besides itself and test-only internal helpers). It is the table of
// STYLE.md section 2.
var allowed = map[string][]string{
	"cenc":     nil,
	"flattree": nil,
	"z32":      nil,
	"hcrypto":  {"cenc", "z32", "flattree"},

	"secretstream": layer0,
	"protomux":     layer0,

	"hypercore": layers01,
	"corestore": append([]string{"hypercore"}, layers01...),

	"hyperbee":    append([]string{"hypercore", "corestore"}, layers01...),
	"hyperblobs":  append([]string{"hypercore", "corestore"}, layers01...),
	"hyperdrive":  append([]string{"hypercore", "corestore", "hyperbee", "hyperblobs"}, layers01...),
	"localdrive":  append([]string{"hyperdrive"}, layers01...),
	"mirrordrive": append([]string{"hypercore", "corestore", "hyperbee", "hyperblobs", "hyperdrive", "localdrive"}, layers01...),
	"autobase":    append([]string{"hypercore", "corestore", "hyperbee"}, layers01...),

	"udx":        layer0,
	"dhtrpc":     append([]string{"udx"}, layer0...),
	"hyperdht":   append([]string{"udx", "dhtrpc"}, layers01...),
	"hyperswarm": append([]string{"udx", "dhtrpc", "hyperdht"}, layers01...),
}

var (
	layer0   = []string{"cenc", "flattree", "z32", "hcrypto"}
	layers01 = append([]string{"secretstream", "protomux"}, layer0...)
)

// top are the places where the columns meet; they may import anything.
var top = []string{"pear", "cmd/", "examples/", "bench", "internal/"}

// testOnly are packages only tests, examples and the bench may import.
var testOnly = []string{"internal/jsref", "internal/testnet", "internal/netsim"}

// shared are support packages below every layer, which any package may
// import.
var shared = []string{"internal/bufpool"}

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func TestImportGraph(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	for _, p := range pkgs {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			if err := check(rel, dep); err != "" {
				t.Errorf("%s imports %s: %s", rel, dep, err)
			}
		}
	}
}

// check says why rel may not import dep, or "" if it may.
func check(rel, dep string) string {
	if hasPrefix(dep, testOnly) && !hasPrefix(rel, []string{"bench", "examples/", "internal/"}) {
		return "test support must not reach production code"
	}
	if hasPrefix(rel, top) || hasPrefix(dep, shared) {
		return ""
	}
	block := strings.SplitN(rel, "/", 2)[0]
	depBlock := strings.SplitN(dep, "/", 2)[0]
	if block == depBlock {
		return "" // a package's own internal subpackages
	}
	list, known := allowed[block]
	if !known {
		return "package " + block + " is not in the layer table of internal/layers (add it as DESIGN.md places it)"
	}
	for _, a := range list {
		if a == depBlock {
			return ""
		}
	}
	return "not allowed by the layers of DESIGN.md"
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == strings.TrimSuffix(p, "/") || strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// listPackages runs go list over the module, without test files: tests may
// import helpers that production code may not.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	return pkgs
}

func TestCheck(t *testing.T) {
	tests := []struct {
		rel, dep string
		ok       bool
	}{
		{"hcrypto", "cenc", true},
		{"cenc", "hcrypto", false},
		{"protomux", "cenc", true},
		{"protomux", "secretstream", false},
		{"hypercore", "protomux", true},
		{"hypercore", "hyperdht", false},
		{"hyperdht", "hypercore", false},
		{"hyperswarm", "hyperdht", true},
		{"hyperbee", "hyperdrive", false},
		{"cmd/drives", "hyperswarm", true},
		{"pear", "hyperdrive", true},
		{"hypercore", "internal/jsref", false},
		{"bench", "internal/jsref", true},
		{"secretstream/internal/noise", "hcrypto", true},
		{"newthing", "cenc", false},
	}
	for _, tt := range tests {
		got := check(tt.rel, tt.dep) == ""
		if got != tt.ok {
			t.Errorf("check(%q, %q) allowed = %v, want %v", tt.rel, tt.dep, got, tt.ok)
		}
	}
}
