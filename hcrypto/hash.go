package hcrypto

import (
	"encoding/binary"
	"hash"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// Type prefixes of the merkle tree hashes (hypercore-crypto LEAF_TYPE,
// PARENT_TYPE, ROOT_TYPE). They keep a leaf from ever hashing like a parent
// (the second-preimage attack on plain merkle trees).
const (
	leafType   = 0x00
	parentType = 0x01
	rootType   = 0x02
)

// Node is a merkle tree node as the tree hashes see it: its flat-tree index,
// the total byte length of the blocks under it, and its hash.
type Node struct {
	Index uint64
	Size  uint64
	Hash  [32]byte
}

// hasher is an unkeyed BLAKE2b-256 state with room for a length prefix and
// the digest, pooled so that the tree hashes do not allocate.
type hasher struct {
	h   hash.Hash
	buf [1 + 8 + 8]byte
	sum [32]byte
}

var hashers = sync.Pool{New: func() any {
	h, err := blake2b.New256(nil)
	if err != nil {
		panic(err) // unreachable: no key
	}
	return &hasher{h: h}
}}

func getHasher() *hasher {
	s := hashers.Get().(*hasher)
	s.h.Reset()
	return s
}

func (s *hasher) finish() [32]byte {
	s.h.Sum(s.sum[:0])
	out := s.sum
	hashers.Put(s)
	return out
}

// Hash returns the BLAKE2b-256 digest of the concatenation of bufs, as
// hypercore-crypto's hash (libsodium crypto_generichash_batch) does.
func Hash(bufs ...[]byte) [32]byte {
	if len(bufs) == 1 {
		return blake2b.Sum256(bufs[0])
	}
	s := getHasher()
	for _, b := range bufs {
		s.h.Write(b)
	}
	return s.finish()
}

// LeafHash returns the tree hash of one block of data: BLAKE2b-256 over
// 0x00 ‖ u64le(len(data)) ‖ data (hypercore-crypto data). It does not
// allocate.
func LeafHash(data []byte) [32]byte {
	s := getHasher()
	s.buf[0] = leafType
	binary.LittleEndian.PutUint64(s.buf[1:9], uint64(len(data)))
	s.h.Write(s.buf[:9])
	s.h.Write(data)
	return s.finish()
}

// ParentHash returns the hash of the parent of a and b: BLAKE2b-256 over
// 0x01 ‖ u64le(a.Size+b.Size) ‖ left.Hash ‖ right.Hash, where left is the
// node with the lower index (hypercore-crypto parent). The order of a and b
// does not matter.
func ParentHash(a, b Node) [32]byte {
	if a.Index > b.Index {
		a, b = b, a
	}
	var in [1 + 8 + 32 + 32]byte
	in[0] = parentType
	binary.LittleEndian.PutUint64(in[1:9], a.Size+b.Size)
	copy(in[9:41], a.Hash[:])
	copy(in[41:73], b.Hash[:])
	return blake2b.Sum256(in[:])
}

// TreeHash returns the hash of a tree given its roots in left-to-right
// order: BLAKE2b-256 over 0x02 followed by, for each root,
// hash ‖ u64le(index) ‖ u64le(size) (hypercore-crypto tree). This is the
// "root hash" that hypercore signs; the tree hash of an empty tree is
// BLAKE2b-256(0x02).
func TreeHash(roots []Node) [32]byte {
	s := getHasher()
	s.buf[0] = rootType
	s.h.Write(s.buf[:1])
	for i := range roots {
		r := &roots[i]
		s.h.Write(r.Hash[:])
		binary.LittleEndian.PutUint64(s.buf[1:9], r.Index)
		binary.LittleEndian.PutUint64(s.buf[9:17], r.Size)
		s.h.Write(s.buf[1:17])
	}
	return s.finish()
}
