package hypercore

import (
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/salsa20"

	"github.com/gopear/gopear/hcrypto"
)

// Block encryption is hypercore 11's optional encryption of block data, the
// `encryption` option of the JS constructor, implemented there by
// lib/default-encryption.js (PROTOCOLS.md §5.3). Each block is stored, sent
// and hashed into the merkle tree as
//
//	padding (8 bytes) ‖ XSalsa20(blockKey, nonce, plaintext)
//
// where the padding is u64le(fork) XORed with the XSalsa20 keystream of the
// blinding key under the nonce u64le(index) ‖ 0¹⁶, and the block nonce is
// u64le(index) ‖ padding ‖ 0⁸. The fork is the core's fork when the block is
// appended; blinding hides it from peers without the key, and folding it
// into the nonce keeps the nonce unique across truncations. Decryption needs
// no fork: the padding carries it. Nothing authenticates the plaintext; the
// merkle tree and the signature authenticate the encrypted block.
//
// Hypercore 11.39.5 has this one scheme. Its key comes in three ways (see
// [BlockEncryptionKey], [CompatBlockEncryptionKey] and the block key given
// directly). Applications may plug in their own provider with the same
// shape (padding, encrypt, decrypt); autobase does, with a different block
// layout, and belongs to the autobase package.

// EncryptionPadding is the number of bytes block encryption puts in front of
// every block (DefaultEncryption.PADDING): an encrypted block is the
// plaintext's length plus EncryptionPadding. Tree node sizes count these
// bytes; a session's byte length (and byte seeks) do not.
const EncryptionPadding = 8

// ErrShortBlock is returned when an encrypted block is shorter than
// EncryptionPadding, which no encrypting writer produces.
var ErrShortBlock = errors.New("hypercore: encrypted block shorter than its padding")

// BlockEncryptionKey returns the block key of a (non-compat) core with the
// given key and encryption key, as Hypercore.blockEncryptionKey does:
// BLAKE2b-256(NS_DEFAULT_ENCRYPTION ‖ coreKey ‖ encryptionKey). The
// encryption key may have any length, as in JS; applications use 32 bytes.
func BlockEncryptionKey(coreKey [32]byte, encryptionKey []byte) [32]byte {
	return hcrypto.Hash(nsDefaultEncryption[:], coreKey[:], encryptionKey)
}

// CompatBlockEncryptionKey returns the block key of a compat core (whose
// key is its signer's public key): BLAKE2b-256 keyed with the core key over
// the encryption key.
func CompatBlockEncryptionKey(coreKey [32]byte, encryptionKey []byte) [32]byte {
	h, err := blake2b.New256(coreKey[:])
	if err != nil {
		panic(err) // unreachable: a 32-byte key is valid
	}
	h.Write(encryptionKey)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// BlockEncryption encrypts and decrypts the blocks of one core with its
// block key. Make one with [NewBlockEncryption] from the key that
// [BlockEncryptionKey] or [CompatBlockEncryptionKey] derives, or from a
// block key the application holds (JS: encryption { key, block: true }).
//
// A BlockEncryption holds no state besides its keys and is safe for
// concurrent use.
type BlockEncryption struct {
	blockKey    [32]byte
	blindingKey [32]byte // BLAKE2b-256(blockKey): blinds the fork in the padding
}

// NewBlockEncryption returns the block encryption with the given block key.
func NewBlockEncryption(blockKey [32]byte) *BlockEncryption {
	return &BlockEncryption{blockKey: blockKey, blindingKey: hcrypto.Hash(blockKey[:])}
}

// String hides the keys, so that a BlockEncryption never ends up in a log.
func (e *BlockEncryption) String() string { return "hypercore.BlockEncryption(redacted)" }

// GoString hides the keys from %#v, as String does from %v.
func (e *BlockEncryption) GoString() string { return e.String() }

// Encrypt encrypts block number index, appended while the core is at fork,
// in place. block is EncryptionPadding bytes of room (their content does
// not matter) followed by the plaintext; afterwards it is the encrypted
// block as stored, hashed and sent. It panics if block is shorter than
// EncryptionPadding, which is a programming error.
//
// To encrypt without touching the plaintext, copy it after the padding:
//
//	enc := make([]byte, hypercore.EncryptionPadding+len(plaintext))
//	copy(enc[hypercore.EncryptionPadding:], plaintext)
//	e.Encrypt(index, fork, enc)
func (e *BlockEncryption) Encrypt(index, fork uint64, block []byte) {
	if len(block) < EncryptionPadding {
		panic("hypercore: BlockEncryption.Encrypt: block has no room for the padding")
	}
	var nonce [24]byte
	binary.LittleEndian.PutUint64(nonce[0:8], index)
	padding := block[:EncryptionPadding]
	binary.LittleEndian.PutUint64(padding, fork)
	salsa20.XORKeyStream(padding, padding, nonce[:], &e.blindingKey)
	e.xorBlock(index, block)
}

// Decrypt decrypts the encrypted block number index in place and returns
// the plaintext, which is block without its padding
// (block[EncryptionPadding:]). A block shorter than EncryptionPadding
// returns ErrShortBlock. Decryption cannot fail otherwise: a wrong key or
// index gives garbage, and only the tree (which hashes the encrypted
// block) tells a genuine block from a forged one.
func (e *BlockEncryption) Decrypt(index uint64, block []byte) ([]byte, error) {
	if len(block) < EncryptionPadding {
		return nil, ErrShortBlock
	}
	e.xorBlock(index, block)
	return block[EncryptionPadding:], nil
}

// xorBlock XORs the data of block (after its padding) with the XSalsa20
// keystream of the block key under the nonce u64le(index) ‖ padding ‖ 0⁸.
// It both encrypts and decrypts.
func (e *BlockEncryption) xorBlock(index uint64, block []byte) {
	var nonce [24]byte
	binary.LittleEndian.PutUint64(nonce[0:8], index)
	copy(nonce[8:16], block[:EncryptionPadding])
	data := block[EncryptionPadding:]
	salsa20.XORKeyStream(data, data, nonce[:], &e.blockKey)
}
