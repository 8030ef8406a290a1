package hypercore_test

import (
	"fmt"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
)

// A block of an encrypted core is stored, hashed and sent as 8 bytes of
// padding (the blinded fork) followed by the ciphertext; decrypting it needs
// only the block key and the block's index. (hypercore 11 stores the same
// bytes for this key pair, encryption key and block.)
func ExampleBlockEncryption() {
	var seed, encryptionKey [32]byte
	for i := range seed {
		seed[i], encryptionKey[i] = 1, 9
	}
	coreKey := hypercore.DefaultManifest(hcrypto.KeyPairFromSeed(seed).PublicKey).Hash()
	e := hypercore.NewBlockEncryption(hypercore.BlockEncryptionKey(coreKey, encryptionKey[:]))

	// Block 0, appended at fork 0: leave room for the padding, then encrypt
	// in place.
	plaintext := []byte("hello")
	block := make([]byte, hypercore.EncryptionPadding+len(plaintext))
	copy(block[hypercore.EncryptionPadding:], plaintext)
	e.Encrypt(0, 0, block)
	fmt.Printf("stored: %x\n", block)

	got, err := e.Decrypt(0, block)
	if err != nil {
		panic(err)
	}
	fmt.Printf("decrypted: %s\n", got)
	// Output:
	// stored: d78b3b9452d459db4577e0aa76
	// decrypted: hello
}
