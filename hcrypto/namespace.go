package hcrypto

import "golang.org/x/crypto/blake2b"

// discoveryMessage is what a discovery key hashes; the core key is the
// BLAKE2b key, not the message.
var discoveryMessage = []byte("hypercore")

// DiscoveryKey returns the discovery key of a core key: BLAKE2b-256 keyed
// with key over the 9 ASCII bytes "hypercore" (hypercore-crypto
// discoveryKey). Peers announce and look up discovery keys, so the core key
// itself never leaves the peers that already know it.
func DiscoveryKey(key [32]byte) [32]byte {
	h, err := blake2b.New256(key[:])
	if err != nil {
		panic(err) // unreachable: a 32-byte key is valid
	}
	h.Write(discoveryMessage)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Namespace returns count namespace hashes for name, with ids 0 to count-1:
// ns_i = BLAKE2b-256(BLAKE2b-256(name) ‖ byte(i)) (hypercore-crypto
// namespace(name, count)). The id is a single byte, so ids above 255 wrap,
// as in JS. Namespace panics if count is negative.
func Namespace(name string, count int) [][32]byte {
	if count < 0 {
		panic("hcrypto: negative namespace count")
	}
	ids := make([]byte, count)
	for i := range ids {
		ids[i] = byte(i)
	}
	return NamespaceIDs(name, ids...)
}

// NamespaceIDs is like [Namespace] with explicit ids (hypercore-crypto
// namespace(name, ids)): ns_i = BLAKE2b-256(BLAKE2b-256(name) ‖ ids[i]).
func NamespaceIDs(name string, ids ...byte) [][32]byte {
	var in [33]byte
	in0 := blake2b.Sum256([]byte(name))
	copy(in[:32], in0[:])
	out := make([][32]byte, len(ids))
	for i, id := range ids {
		in[32] = id
		out[i] = blake2b.Sum256(in[:])
	}
	return out
}
