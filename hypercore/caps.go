package hypercore

import (
	"encoding/binary"

	"golang.org/x/crypto/blake2b"

	"github.com/gopear/gopear/hcrypto"
)

// The namespaces of hypercore (lib/caps.js): hcrypto.Namespace("hypercore",
// 6), in this order. They are the one place these constants are defined;
// PROTOCOLS.md Appendix A lists their values.
var (
	nsTree               [32]byte // prefixes every tree signable
	nsReplicateInitiator [32]byte // capability of the secret-stream initiator
	nsReplicateResponder [32]byte // capability of the secret-stream responder
	nsManifest           [32]byte // prefixes the manifest in the core key hash
	// DefaultNamespace is the namespace of a manifest signer when none is
	// given: hcrypto.Namespace("hypercore", 6)[4] (caps.js
	// DEFAULT_NAMESPACE). Default manifests and corestore cores use it.
	DefaultNamespace    [32]byte
	nsDefaultEncryption [32]byte // derives the block key of default block encryption
)

func init() {
	ns := hcrypto.Namespace("hypercore", 6)
	nsTree, nsReplicateInitiator, nsReplicateResponder = ns[0], ns[1], ns[2]
	nsManifest, DefaultNamespace, nsDefaultEncryption = ns[3], ns[4], ns[5]
}

// Capability returns the replication capability a peer sends in the
// channel handshake of a core (caps.js replicate): BLAKE2b-256 keyed with
// the 64-byte Noise handshake hash over NS_REPLICATE_INITIATOR ‖ key when
// isInitiator (the peer is the secret-stream initiator, not the first to
// open the channel), else over NS_REPLICATE_RESPONDER ‖ key. It proves
// knowledge of the core key without revealing it; the receiver recomputes
// it with the remote's role.
func Capability(isInitiator bool, key [32]byte, handshakeHash [64]byte) [32]byte {
	h, err := blake2b.New256(handshakeHash[:])
	if err != nil {
		panic(err) // unreachable: a 64-byte key is valid
	}
	if isInitiator {
		h.Write(nsReplicateInitiator[:])
	} else {
		h.Write(nsReplicateResponder[:])
	}
	h.Write(key[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// treeSignableSize is the size of the signable of a non-compat core.
const treeSignableSize = 112

// treeSignable returns the 112 bytes a signer of a non-compat core signs
// (caps.js treeSignable): NS_TREE ‖ ctx ‖ treeHash ‖ u64le(length) ‖
// u64le(fork). ctx is the manifest hash (the core key) for manifests of
// version 1 and above, and the signer's namespace for version 0.
func treeSignable(ctx, treeHash [32]byte, length, fork uint64) [treeSignableSize]byte {
	var b [treeSignableSize]byte
	copy(b[0:32], nsTree[:])
	copy(b[32:64], ctx[:])
	copy(b[64:96], treeHash[:])
	binary.LittleEndian.PutUint64(b[96:104], length)
	binary.LittleEndian.PutUint64(b[104:112], fork)
	return b
}

// treeSignableCompat returns what the signer of a compat core (whose key
// is its public key) signs (caps.js treeSignableCompat): NS_TREE ‖
// treeHash ‖ u64le(length) ‖ u64le(fork), 80 bytes, or without NS_TREE
// (48 bytes) in legacy mode.
func treeSignableCompat(treeHash [32]byte, length, fork uint64, legacy bool) []byte {
	b := make([]byte, 0, 80)
	if !legacy {
		b = append(b, nsTree[:]...)
	}
	b = append(b, treeHash[:]...)
	b = binary.LittleEndian.AppendUint64(b, length)
	return binary.LittleEndian.AppendUint64(b, fork)
}
