package hypercore_test

import (
	"fmt"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
)

// The key of a core made from a single key pair is the hash of its default
// manifest (PROTOCOLS.md §5.11: the key pair of seed 0x01 repeated).
func ExampleDefaultManifest() {
	var seed [32]byte
	for i := range seed {
		seed[i] = 1
	}
	kp := hcrypto.KeyPairFromSeed(seed)
	m := hypercore.DefaultManifest(kp.PublicKey)
	key := m.Hash()
	enc, _ := m.MarshalBinary()
	fmt.Printf("key %x\n", key)
	fmt.Printf("manifest %d bytes, version %d, quorum %d\n", len(enc), m.Version, m.Quorum)
	// Output:
	// key d8c3a0597903b28d751c6e0b7107775e388ec5a3cf669bdd1e7ec41b8b8f6e72
	// manifest 70 bytes, version 1, quorum 1
}
