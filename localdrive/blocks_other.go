//go:build !unix

package localdrive

import "io/fs"

// blockLength is what JS localdrive puts in a file's synthetic blob when
// the platform has no st_blocks: the size rounded up to 4 KiB blocks,
// counted in 512-byte units.
func blockLength(st fs.FileInfo) uint64 {
	return fallbackBlockLength(uint64(st.Size()), 4096)
}
