package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hcrypto"
)

// Header is what a core is: its identity and the secrets needed to write
// and to read it (hypercore-storage's auth record, hypercore lib/core.js).
// It is written when the core is created and rewritten when, for example,
// the manifest is learned from a peer.
//
// Record: uvarint flags (1 secret key, 2 encryption key) ‖ key[32] ‖
// discoveryKey[32] ‖ bytes manifest ‖ [bytes secretKey] ‖ [bytes
// encryptionKey], where bytes is a uvarint length and the bytes.
type Header struct {
	// Key is the core's public key (the manifest hash, or the signer's
	// public key for a compat core).
	Key [32]byte
	// DiscoveryKey is the hash of Key that names the core on the wire and
	// in the store's index. It never changes.
	DiscoveryKey [32]byte
	// Manifest is the encoded manifest (PROTOCOLS.md 5.1), or nil while it
	// is unknown (a core opened from its key alone).
	Manifest []byte
	// SecretKey is the writer's Ed25519 secret key (64 bytes, seed ‖
	// public key), or nil for a core this store cannot write.
	SecretKey []byte
	// EncryptionKey is the block encryption key (PROTOCOLS.md 5.3), or nil
	// for an unencrypted core.
	EncryptionKey []byte
}

const (
	headerHasSecret     = 1
	headerHasEncryption = 2
	headerFlagsKnown    = headerHasSecret | headerHasEncryption
)

// appendHeader appends the record of h.
func appendHeader(dst []byte, h *Header) []byte {
	var flags uint64
	if h.SecretKey != nil {
		flags |= headerHasSecret
	}
	if h.EncryptionKey != nil {
		flags |= headerHasEncryption
	}
	dst = binary.AppendUvarint(dst, flags)
	dst = append(dst, h.Key[:]...)
	dst = append(dst, h.DiscoveryKey[:]...)
	dst = appendBytes(dst, h.Manifest)
	if h.SecretKey != nil {
		dst = appendBytes(dst, h.SecretKey)
	}
	if h.EncryptionKey != nil {
		dst = appendBytes(dst, h.EncryptionKey)
	}
	return dst
}

// decodeHeader decodes a header record. The result does not alias b.
func decodeHeader(b []byte) (*Header, error) {
	d := decoder{b: b}
	flags := d.uvarint()
	h := new(Header)
	d.fixed(h.Key[:])
	d.fixed(h.DiscoveryKey[:])
	h.Manifest = d.bytes()
	if flags&headerHasSecret != 0 {
		h.SecretKey = d.bytes()
		if h.SecretKey == nil {
			h.SecretKey = []byte{}
		}
	}
	if flags&headerHasEncryption != 0 {
		h.EncryptionKey = d.bytes()
		if h.EncryptionKey == nil {
			h.EncryptionKey = []byte{}
		}
	}
	if err := d.finish(); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if flags&^headerFlagsKnown != 0 {
		return nil, fmt.Errorf("%w: header: unknown flags %#x", ErrCorrupt, flags)
	}
	return h, nil
}

// Head is a core's current tree: what its signature covers. A core with no
// head has length 0.
//
// Record: uvarint fork ‖ uvarint length ‖ uvarint byteLength ‖
// rootHash[32] ‖ bytes signature.
type Head struct {
	// Fork counts truncations (PROTOCOLS.md 5.3).
	Fork uint64
	// Length is the number of blocks in the tree.
	Length uint64
	// ByteLength is the total size of those blocks.
	ByteLength uint64
	// RootHash is the tree hash of the roots of Length (hcrypto.TreeHash).
	RootHash [32]byte
	// Signature is the signature over the tree (multisig-wrapped for
	// manifest v1 cores), or nil for an unsigned tree.
	Signature []byte
}

func appendHead(dst []byte, h *Head) []byte {
	dst = binary.AppendUvarint(dst, h.Fork)
	dst = binary.AppendUvarint(dst, h.Length)
	dst = binary.AppendUvarint(dst, h.ByteLength)
	dst = append(dst, h.RootHash[:]...)
	return appendBytes(dst, h.Signature)
}

func decodeHead(b []byte) (Head, error) {
	d := decoder{b: b}
	var h Head
	h.Fork = d.uvarint()
	h.Length = d.uvarint()
	h.ByteLength = d.uvarint()
	d.fixed(h.RootHash[:])
	h.Signature = d.bytes()
	if err := d.finish(); err != nil {
		return Head{}, fmt.Errorf("%w: head: %v", ErrCorrupt, err)
	}
	return h, nil
}

func appendNodeValue(dst []byte, n *hcrypto.Node) []byte {
	dst = binary.BigEndian.AppendUint64(dst, n.Size)
	return append(dst, n.Hash[:]...)
}

func decodeNodeValue(index uint64, b []byte) (hcrypto.Node, error) {
	if len(b) != nodeValueLen {
		return hcrypto.Node{}, corruptNode
	}
	n := hcrypto.Node{Index: index, Size: binary.BigEndian.Uint64(b)}
	copy(n.Hash[:], b[8:])
	return n, nil
}

// corruptNode is preallocated: the node read path does not allocate.
var corruptNode = fmt.Errorf("%w: tree node is not %d bytes", ErrCorrupt, nodeValueLen)

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decoder reads a record with a sticky error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = errors.New(msg)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) fixed(dst []byte) {
	if d.err != nil {
		return
	}
	if len(d.b) < len(dst) {
		d.fail("short fixed field")
		return
	}
	copy(dst, d.b)
	d.b = d.b[len(dst):]
}

// bytes returns a copy of a length-prefixed string, or nil when it is
// empty.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length prefix past the end")
		return nil
	}
	if n == 0 {
		return nil
	}
	out := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return out
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return d.err
}
