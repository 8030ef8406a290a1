// Package hyperdrive is a peer-to-peer file system: file metadata in a
// hyperbee, file contents in hyperblobs, wire- and format-compatible with the
// JavaScript module hyperdrive 13.3.4. A drive written in Go reads in JS and
// the reverse, block for block.
//
// [New] opens a drive on a store (a *hypercore.Store, or a corestore, whose
// "db" key pair a new drive takes, as JS does); the blobs core is found as
// JS finds it (the header's contentFeed, else [ContentManifest]). A [Drive]
// has the JS calls in Go form (Put, Get, Entry, Del, List, Readdir, Symlink,
// read and write streams, Batch, Checkout, Diff, Watch, Download, Clear,
// Purge), satisfies mirrordrive.Drive, and [Drive.FS] gives a snapshot as an
// io/fs.FS that http.FileServerFS serves with range requests. [Drive.Watch]
// reports the changes under a folder, local writes and replicated ones
// alike, as checkouts of the versions after and before.
//
// This file holds the types every drive shares (an [Entry] and its
// [EntryValue] and [BlobID], the options of the drive calls, and the path
// rules of [NormalizePath] and [ResolvePath]), so that localdrive and
// mirrordrive speak the same language. Not yet done: writing to compat
// (manifest version 0) drives, and monitors.
//
// # Entries
//
// A drive maps normalised paths ("/a/b.txt") to entries. A regular file has a
// blob and no link name; a symbolic link has a link name and no blob.
// Directories are not stored: they exist as the prefixes of file paths. In a
// hyperdrive the value is stored as the JSON text of [EntryValue] under the
// hyperbee key "files\x00" + path (reference/PROTOCOLS.md, section 7.2).
package hyperdrive

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Entry is one file or symbolic link of a drive, as drive.entry(path)
// returns it in JS: a hyperbee node {seq, key, value}.
type Entry struct {
	// Key is the normalised drive path of the entry, "/a/b.txt".
	Key string
	// Seq is the hyperbee sequence number of the node that holds the entry.
	// Drives that are not hyperbee-backed (localdrive) leave it zero.
	Seq uint64
	// Value is what the drive stores for Key.
	Value EntryValue
	// Mtime is the file's modification time, set by localdrive (whose JS
	// entries carry mtime and whose compare() orders by it). Hyperdrive
	// entries leave it zero.
	Mtime time.Time
}

// EntryValue is the value of a drive entry. Its JSON encoding is the one
// hyperdrive 13 stores: {"executable":…,"linkname":…,"blob":…,"metadata":…},
// in that field order, with null for an absent link name, blob or metadata.
type EntryValue struct {
	// Executable is the executable bit of a regular file.
	Executable bool
	// Linkname is the target of a symbolic link, empty for a regular file.
	// An empty link name is encoded as JSON null (JS treats "" and null
	// alike: neither is a link).
	Linkname string
	// Blob locates the file's content; nil for a symbolic link.
	Blob *BlobID
	// Metadata is the entry's user metadata as JSON text; nil when there is
	// none (JSON null).
	Metadata json.RawMessage
}

// entryValueJSON fixes the field names and order of EntryValue's encoding.
type entryValueJSON struct {
	Executable bool            `json:"executable"`
	Linkname   *string         `json:"linkname"`
	Blob       *BlobID         `json:"blob"`
	Metadata   json.RawMessage `json:"metadata"`
}

// MarshalJSON encodes v as hyperdrive 13 stores it.
func (v EntryValue) MarshalJSON() ([]byte, error) {
	j := entryValueJSON{Executable: v.Executable, Blob: v.Blob, Metadata: v.Metadata}
	if v.Linkname != "" {
		j.Linkname = &v.Linkname
	}
	if isNull(j.Metadata) {
		j.Metadata = json.RawMessage("null")
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a stored entry value. Absent fields and nulls give
// the zero value; metadata null gives a nil Metadata.
func (v *EntryValue) UnmarshalJSON(b []byte) error {
	var j entryValueJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = EntryValue{Executable: j.Executable, Blob: j.Blob}
	if j.Linkname != nil {
		v.Linkname = *j.Linkname
	}
	if !isNull(j.Metadata) {
		v.Metadata = append(json.RawMessage(nil), j.Metadata...)
	}
	return nil
}

func isNull(m json.RawMessage) bool {
	return len(m) == 0 || bytes.Equal(bytes.TrimSpace(m), []byte("null"))
}

// BlobID locates a file's content in the drive's blobs core, as hyperblobs 2
// returns it from put: the first block, the byte offset of that block in the
// core, the number of blocks and the number of bytes. An empty file has
// BlockLength and ByteLength 0. Localdrive entries carry a synthetic BlobID:
// offsets 0, ByteLength the file size, BlockLength the file's allocated
// 512-byte blocks (stat's st_blocks).
//
// The JSON field order is the one hyperdrive writes: blockOffset,
// byteOffset, blockLength, byteLength, then blockMap when set.
type BlobID struct {
	BlockOffset uint64 `json:"blockOffset"`
	ByteOffset  uint64 `json:"byteOffset"`
	BlockLength uint64 `json:"blockLength"`
	ByteLength  uint64 `json:"byteLength"`
	// BlockMap marks a deduplicated blob: its blocks hold a block map that
	// lists where the content is (hyperblobs blockMap: true). ByteLength is
	// then the length of the map, not of the content.
	BlockMap bool `json:"blockMap,omitempty"`
}

// PutOptions are the options of a drive's Put and CreateWriteStream (JS
// { executable, metadata }). A nil *PutOptions means a plain file without
// metadata.
type PutOptions struct {
	// Executable sets the entry's executable bit (on disk: mode 0755
	// instead of 0644).
	Executable bool
	// Metadata is stored with the entry; nil stores none (and, in
	// localdrive, deletes what the metadata hooks held).
	Metadata json.RawMessage
}

// ReadOptions select a byte range for a drive's CreateReadStream (JS
// { start, length } or { start, end }). A nil *ReadOptions reads the whole
// file.
type ReadOptions struct {
	// Start is the offset of the first byte to read. Past the end of the
	// file, nothing is read.
	Start uint64
	// Length is the number of bytes to read; 0 reads to the end of the file
	// (JS treats length 0 as unset too). JS's inclusive { end } is
	// Length = end - Start + 1.
	Length uint64
	// NoPrefetch turns off the download of the range's blocks that a
	// hyperdrive read stream starts with its first read (JS prefetch:
	// false): missing blocks are then asked for one by one as they are
	// read, unless something else fetches them (a mirror's preload).
	// Other drives ignore it.
	NoPrefetch bool
}

// ListOptions are the options of a drive's List. A nil *ListOptions lists
// everything under the folder, recursively.
type ListOptions struct {
	// Ignore, when not nil, hides every key for which it returns true. Drives
	// that walk folders (localdrive) call it for folders too and skip the
	// whole subtree of an ignored folder. [IgnorePaths] builds the function
	// JS makes of a list of paths.
	Ignore func(key string) bool
}

// IgnorePaths returns an ignore function that hides each of paths and
// everything under it, as hyperdrive and mirror-drive turn an ignore list
// into a function: key == path or key starts with path + "/". Paths are
// normalised with [ResolvePath] against "/"; a path that does not normalise
// (too many "..") is dropped, since no key can match it.
func IgnorePaths(paths ...string) func(key string) bool {
	all := make([]string, 0, len(paths))
	for _, p := range paths {
		if n, err := ResolvePath("/", p); err == nil {
			all = append(all, n)
		}
	}
	return func(key string) bool {
		for _, p := range all {
			if key == p || strings.HasPrefix(key, p+"/") {
				return true
			}
		}
		return false
	}
}

// ErrInvalidPath reports a path that cannot name a drive entry: one with more
// ".." than folders above it, a relative path resolved against a relative
// base, or "/" itself where a file name is needed.
var ErrInvalidPath = errors.New("hyperdrive: invalid path")

// NormalizePath returns the drive path of name, as Hyperdrive.normalizePath
// does: name resolved against "/" by [ResolvePath], which must not be "/"
// itself (the root is not a file name).
func NormalizePath(name string) (string, error) {
	p, err := ResolvePath("/", name)
	if err != nil {
		return "", err
	}
	if p == "/" {
		return "", &PathError{Path: name, Reason: "the root is not a file name"}
	}
	return p, nil
}

// PathError is the error of [NormalizePath] and [ResolvePath]; it matches
// [ErrInvalidPath] with errors.Is.
type PathError struct {
	Path   string
	Reason string
}

// Error says which path is invalid and why.
func (e *PathError) Error() string {
	return "hyperdrive: invalid path " + quote(e.Path) + ": " + e.Reason
}

// Is makes a *PathError match [ErrInvalidPath].
func (e *PathError) Is(target error) bool { return target == ErrInvalidPath }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ResolvePath resolves name against base with the rules of the JS module
// unix-path-resolve 1.0.2, which every drive uses to turn a user's path into
// a key:
//
//   - "/" and "\" both separate names; empty names and "." are dropped;
//     ".." removes the previous name, and is an error at the root (JS
//     throws "too many '..'") rather than being clamped.
//   - If name is absolute it is resolved alone; otherwise base must be
//     absolute and name is appended to it.
//   - A path is absolute when it starts with a separator, or when its first
//     name ends with ':' and more names follow: a Windows drive ("c:/x",
//     drive dropped), "file:/x" (scheme dropped), or a URL ("http://host/x",
//     scheme and host dropped).
//
// The result starts with "/", has no empty, "." or ".." names and no
// trailing "/" (except the root itself, "/").
func ResolvePath(base, name string) (string, error) {
	bAbs, bNames := parsePath(name)
	if bAbs {
		return joinNames("/", bNames, name)
	}
	aAbs, aNames := parsePath(base)
	if !aAbs {
		return "", &PathError{Path: name, Reason: "one of the two paths must be absolute"}
	}
	p, err := joinNames("/", aNames, base)
	if err != nil {
		return "", err
	}
	return joinNames(p, bNames, name)
}

// parsePath splits p into names and says whether it is absolute, as
// unix-path-resolve's parse does.
func parsePath(p string) (abs bool, names []string) {
	names = splitSeparators(p)
	if len(names) > 1 && strings.HasSuffix(names[0], ":") {
		switch {
		case utf16Len(names[0]) == 2: // a Windows drive letter, "c:"
			return true, names[1:]
		case names[0] == "file:":
			return true, names[1:]
		case len(names) >= 3:
			return true, names[3:]
		default:
			return true, nil
		}
	}
	return strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`), names
}

// splitSeparators splits p at every '/' and '\', keeping empty names, as
// JS's p.split(/[/\\]/) does.
func splitSeparators(p string) []string {
	names := make([]string, 0, strings.Count(p, "/")+strings.Count(p, `\`)+1)
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '/' || p[i] == '\\' {
			names = append(names, p[start:i])
			start = i + 1
		}
	}
	return append(names, p[start:])
}

// utf16Len is the length of s in UTF-16 code units, JS's String.length.
// Invalid UTF-8 bytes count one unit each (each becomes U+FFFD).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 && r <= utf8.MaxRune {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// joinNames appends names to the absolute path p, as unix-path-resolve's
// toString does. orig is the path being resolved, for the error.
func joinNames(p string, names []string, orig string) (string, error) {
	for _, n := range names {
		switch n {
		case "", ".":
			continue
		case "..":
			if p == "/" {
				return "", &PathError{Path: orig, Reason: "too many '..'"}
			}
			p = p[:strings.LastIndexByte(p, '/')]
			if p == "" {
				p = "/"
			}
			continue
		}
		if p == "/" {
			p += n
		} else {
			p += "/" + n
		}
	}
	return p, nil
}
