//go:build !amd64 || purego

package hcrypto

// haveLanes is false: there is no 8-lane compression on this platform, and
// LeafHashes hashes blocks one by one.
const haveLanes = false

func compress8(h *[8][lanes]uint64, m *[16][lanes]uint64, t, last uint64) {
	panic("hcrypto: compress8 without AVX-512")
}
