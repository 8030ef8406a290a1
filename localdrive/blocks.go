package localdrive

// fallbackBlockLength is JS's Math.ceil(size / blksize) * 8.
func fallbackBlockLength(size, blksize uint64) uint64 {
	if blksize == 0 {
		blksize = 4096
	}
	return (size + blksize - 1) / blksize * 8
}
