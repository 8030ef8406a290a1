package hyperdrive_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/internal/jsref"
)

// resolveCases are [base, name] pairs, the table for the unit test (with
// what unix-path-resolve 1.0.2 returns, "!" for a throw) and the seed of the
// interop test and the fuzzer.
var resolveCases = []struct{ base, name, want string }{
	{"/", "", "/"},
	{"/", "/", "/"},
	{"/", "a", "/a"},
	{"/", "/a/b/", "/a/b"},
	{"/", "a//b/./c", "/a/b/c"},
	{"/", `a\b\c`, "/a/b/c"},
	{"/", `\a`, "/a"},
	{"/", "a/../b", "/b"},
	{"/", "a/b/../../c", "/c"},
	{"/", "..", "!"},
	{"/", "/../a", "!"},
	{"/", "a/../..", "!"},
	{"/", "./.", "/"},
	{"/", "...", "/..."},
	{"/", "..a", "/..a"},
	{"/x/y", "z", "/x/y/z"},
	{"/x/y", "../z", "/x/z"},
	{"/x/y", "../../..", "!"},
	{"/x/y", "/z", "/z"},
	{"x", "y", "!"},
	{"x", "/y", "/y"},
	{"", "y", "!"},
	{"c:/ignored", "y", "/ignored/y"},
	{"/", "c:/x/y", "/x/y"},
	{"/", "c:", "/c:"},
	{"/", "c:x", "/c:x"},
	{"/", "é:/x", "/x"},
	{"/", "𝄞:/x/y/z", "/z"},
	{"/", "file:/x", "/x"},
	{"/", "file:///x", "/x"},
	{"/", "http://host/x/y", "/x/y"},
	{"/", "ab:/x", "/"},
	{"/", "ab:/x/y/z", "/z"},
	{"/", "a:b/c", "/a:b/c"},
	{"/", "/a:/b", "/a:/b"},
	{"/", "ünïcödé/日本/файл.txt", "/ünïcödé/日本/файл.txt"},
	{"/", "a\x00b", "/a\x00b"},
	{"/", " a /  ", "/ a /  "},
}

func TestResolvePath(t *testing.T) {
	for _, c := range resolveCases {
		got, err := hyperdrive.ResolvePath(c.base, c.name)
		if c.want == "!" {
			if err == nil || !errors.Is(err, hyperdrive.ErrInvalidPath) {
				t.Errorf("ResolvePath(%q, %q) = %q, %v; want an ErrInvalidPath", c.base, c.name, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ResolvePath(%q, %q) = %q, %v; want %q", c.base, c.name, got, err, c.want)
		}
	}
}

// TestResolvePathInterop checks ResolvePath against unix-path-resolve on
// the table and on combinations of awkward names.
func TestResolvePathInterop(t *testing.T) {
	var pairs [][2]string
	for _, c := range resolveCases {
		pairs = append(pairs, [2]string{c.base, c.name})
	}
	parts := []string{"", ".", "..", "a", "b:", "c:", "file:", `\`, "/", "//", "é", "𝄞:", "x y"}
	for _, p := range parts {
		for _, q := range parts {
			for _, r := range parts {
				pairs = append(pairs, [2]string{"/base/dir", p + "/" + q + `\` + r})
				pairs = append(pairs, [2]string{p + q, r + "/" + q})
			}
		}
	}
	var out struct {
		Resolves []json.RawMessage `json:"resolves"`
	}
	jsref.JSON(t, map[string]any{"resolves": pairs}, &out, "localdrive/drive.js")
	if len(out.Resolves) != len(pairs) {
		t.Fatalf("JS answered %d resolves, want %d", len(out.Resolves), len(pairs))
	}
	for i, p := range pairs {
		var want string
		jsErr := json.Unmarshal(out.Resolves[i], &want) != nil // an {error} object
		got, err := hyperdrive.ResolvePath(p[0], p[1])
		if jsErr != (err != nil) || (!jsErr && got != want) {
			t.Errorf("ResolvePath(%q, %q) = %q, %v; JS gives %s", p[0], p[1], got, err, out.Resolves[i])
		}
	}
}

func TestNormalizePath(t *testing.T) {
	for _, name := range []string{"/", "", ".", "a/.."} {
		if got, err := hyperdrive.NormalizePath(name); !errors.Is(err, hyperdrive.ErrInvalidPath) {
			t.Errorf("NormalizePath(%q) = %q, %v; want ErrInvalidPath", name, got, err)
		}
	}
	if got, err := hyperdrive.NormalizePath("a/b/"); err != nil || got != "/a/b" {
		t.Errorf(`NormalizePath("a/b/") = %q, %v; want "/a/b"`, got, err)
	}
}

// FuzzResolvePath checks that ResolvePath never panics, and that what it
// returns is a clean drive path that stays under any root it is joined to.
func FuzzResolvePath(f *testing.F) {
	for _, c := range resolveCases {
		f.Add(c.base, c.name)
	}
	f.Fuzz(func(t *testing.T, base, name string) {
		p, err := hyperdrive.ResolvePath(base, name)
		if err != nil {
			if !errors.Is(err, hyperdrive.ErrInvalidPath) {
				t.Fatalf("ResolvePath(%q, %q): error %v does not match ErrInvalidPath", base, name, err)
			}
			return
		}
		if !strings.HasPrefix(p, "/") || (p != "/" && strings.HasSuffix(p, "/")) || strings.Contains(p, `\`) {
			t.Fatalf("ResolvePath(%q, %q) = %q: not a clean absolute path", base, name, p)
		}
		if p != "/" {
			for _, seg := range strings.Split(p[1:], "/") {
				if seg == "" || seg == "." || seg == ".." {
					t.Fatalf("ResolvePath(%q, %q) = %q: has segment %q", base, name, p, seg)
				}
			}
		}
		if again, err := hyperdrive.ResolvePath("/", p); err != nil || again != p {
			t.Fatalf("ResolvePath(%q, %q) = %q, but resolving that again gives %q, %v", base, name, p, again, err)
		}
		root := filepath.FromSlash("/srv/root")
		if j := filepath.Join(root, filepath.FromSlash(p)); j != root && !strings.HasPrefix(j, root+string(filepath.Separator)) {
			t.Fatalf("ResolvePath(%q, %q) = %q escapes the root: %q", base, name, p, j)
		}
	})
}

func TestEntryValueJSON(t *testing.T) {
	tests := []struct {
		v    hyperdrive.EntryValue
		want string
	}{
		{
			hyperdrive.EntryValue{Blob: &hyperdrive.BlobID{BlockOffset: 1, ByteOffset: 2, BlockLength: 3, ByteLength: 4}},
			`{"executable":false,"linkname":null,"blob":{"blockOffset":1,"byteOffset":2,"blockLength":3,"byteLength":4},"metadata":null}`,
		},
		{
			hyperdrive.EntryValue{Executable: true, Blob: &hyperdrive.BlobID{}, Metadata: json.RawMessage(`{"a":[1,"x"]}`)},
			`{"executable":true,"linkname":null,"blob":{"blockOffset":0,"byteOffset":0,"blockLength":0,"byteLength":0},"metadata":{"a":[1,"x"]}}`,
		},
		{
			hyperdrive.EntryValue{Linkname: "/target"},
			`{"executable":false,"linkname":"/target","blob":null,"metadata":null}`,
		},
		{
			hyperdrive.EntryValue{Blob: &hyperdrive.BlobID{BlockOffset: 9, BlockLength: 1, ByteLength: 10, BlockMap: true}},
			`{"executable":false,"linkname":null,"blob":{"blockOffset":9,"byteOffset":0,"blockLength":1,"byteLength":10,"blockMap":true},"metadata":null}`,
		},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.v, b, err, tt.want)
			continue
		}
		var back hyperdrive.EntryValue
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if again, _ := json.Marshal(back); string(again) != tt.want {
			t.Errorf("round trip of %s gives %s", tt.want, again)
		}
	}
}

func TestIgnorePaths(t *testing.T) {
	ignore := hyperdrive.IgnorePaths("node_modules", "/a/b/", "../x")
	for key, want := range map[string]bool{
		"/node_modules":     true,
		"/node_modules/x/y": true,
		"/node_modulesx":    false,
		"/a/b":              true,
		"/a/b/c":            true,
		"/a/bc":             false,
		"/a":                false,
		"/x":                false,
	} {
		if got := ignore(key); got != want {
			t.Errorf("ignore(%q) = %v, want %v", key, got, want)
		}
	}
}

func ExampleResolvePath() {
	for _, name := range []string{"docs/./guide//intro.md", `win\style\path`, "a/../b", "../outside"} {
		p, err := hyperdrive.ResolvePath("/", name)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(p)
	}
	// Output:
	// /docs/guide/intro.md
	// /win/style/path
	// /b
	// error: hyperdrive: invalid path "../outside": too many '..'
}
