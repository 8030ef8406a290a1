package cli

import (
	"path"
	"regexp"
	"strings"
)

// defaultIgnore is the set of paths JS drives never mirrors or shows
// (lib/generate-filter.js).
var defaultIgnore = regexp.MustCompile(`(?i)/(\.drives|\.git|\.github|\.DS_Store|package-lock\.json|node_modules/\.package-lock\.json)(/|$)`)

// newFilter returns the filter of JS drives' generateFilter: false for the
// paths of defaultIgnore and for those matching one of the --filter
// patterns. A pattern not starting with '/' matches at any depth (JS
// prefixes it with "**/"); matching ignores case, '*' and '?' stay within
// a name and "**" spans any number of names, as minimatch does.
func newFilter(patterns []string) func(key string) bool {
	var globs [][]string
	for _, p := range patterns {
		if p == "" {
			continue
		}
		if p[0] != '/' {
			p = "**/" + p
		}
		globs = append(globs, strings.Split(strings.ToLower(strings.TrimPrefix(p, "/")), "/"))
	}
	return func(key string) bool {
		if defaultIgnore.MatchString(key) {
			return false
		}
		if len(globs) == 0 {
			return true
		}
		names := strings.Split(strings.ToLower(strings.TrimPrefix(key, "/")), "/")
		for _, g := range globs {
			if globMatch(g, names) {
				return false
			}
		}
		return true
	}
}

// globMatch matches names against the pattern names g, where "**" matches
// any number of names.
func globMatch(g, names []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(names); i++ {
				if globMatch(g[1:], names[i:]) {
					return true
				}
			}
			return false
		}
		if len(names) == 0 {
			return false
		}
		if ok, err := path.Match(g[0], names[0]); err != nil || !ok {
			return false
		}
		g, names = g[1:], names[1:]
	}
	return len(names) == 0
}
