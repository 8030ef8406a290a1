package cli

import "testing"

// TestFilter checks the filter of JS drives' generateFilter: the default
// ignore list, and --filter patterns as minimatch matches them.
func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		key      string
		keep     bool
	}{
		{nil, "/a.txt", true},
		{nil, "/.drives/corestore/x", false},
		{nil, "/sub/.git/config", false},
		{nil, "/.github", false},
		{nil, "/.gitignore", true},
		{nil, "/x/.DS_STORE", false},
		{nil, "/package-lock.json", false},
		{nil, "/node_modules/.package-lock.json", false},
		{nil, "/node_modules/a.js", true},
		{[]string{"*.sh"}, "/run.sh", false},
		{[]string{"*.sh"}, "/bin/deep/run.SH", false},
		{[]string{"*.sh"}, "/run.sh.txt", true},
		{[]string{"/sub"}, "/sub", false},
		{[]string{"/sub"}, "/sub/a.txt", true}, // minimatch matches the path, not its children
		{[]string{"/sub/**"}, "/sub/a/b.txt", false},
		{[]string{"node_modules"}, "/a/node_modules", false},
		{[]string{"a?c"}, "/abc", false},
		{[]string{"a?c"}, "/a/c", true},
	} {
		if got := newFilter(tc.patterns)(tc.key); got != tc.keep {
			t.Errorf("filter %q on %q = %v, want %v", tc.patterns, tc.key, got, tc.keep)
		}
	}
}
