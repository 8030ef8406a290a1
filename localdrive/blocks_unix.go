//go:build unix

package localdrive

import (
	"io/fs"
	"syscall"
)

// blockLength is what JS localdrive puts in a file's synthetic blob:
// st_blocks (512-byte units), or when that is 0, the size rounded up to
// whole I/O blocks, counted in 512-byte units.
func blockLength(st fs.FileInfo) uint64 {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fallbackBlockLength(uint64(st.Size()), 4096)
	}
	if s.Blocks > 0 {
		return uint64(s.Blocks)
	}
	return fallbackBlockLength(uint64(st.Size()), uint64(s.Blksize))
}
