package hypercore

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/salsa20"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/internal/jsref"
)

// The JS side of these tests is interop/hypercore/encryption.js: real
// encrypted cores made by hypercore 11, and DefaultEncryption.encrypt
// vectors.

type encCoreIn struct {
	Seed          string `json:"seed"`
	EncryptionKey string `json:"encryptionKey"`
	Mode          string `json:"mode"`
	Steps         []any  `json:"steps"`
}

type encVectorIn struct {
	BlockKey string `json:"blockKey"`
	Index    uint64 `json:"index"`
	Fork     uint64 `json:"fork"`
	Plain    string `json:"plain"`
}

type encCoreOut struct {
	Key         string `json:"key"`
	Compat      bool   `json:"compat"`
	Fork        uint64 `json:"fork"`
	Length      uint64 `json:"length"`
	ByteLength  uint64 `json:"byteLength"`
	BlockKey    string `json:"blockKey"`
	BlindingKey string `json:"blindingKey"`
	Blocks      []struct {
		Index uint64 `json:"index"`
		Fork  uint64 `json:"fork"`
		Plain string `json:"plain"`
		Raw   string `json:"raw"`
		Sent  string `json:"sent"`
		Node  struct {
			Index uint64 `json:"index"`
			Size  uint64 `json:"size"`
			Hash  string `json:"hash"`
		} `json:"node"`
	} `json:"blocks"`
}

func appendStep(blocks ...[]byte) any {
	hs := make([]string, len(blocks))
	for i, b := range blocks {
		hs[i] = hx(b)
	}
	return map[string]any{"append": hs}
}

func truncateStep(length int) any { return map[string]any{"truncate": length} }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// pattern returns n bytes that differ from block to block.
func pattern(n int, salt byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ salt
	}
	return b
}

// encrypted returns the encrypted form of plain, leaving plain alone.
func encrypted(e *BlockEncryption, index, fork uint64, plain []byte) []byte {
	b := make([]byte, EncryptionPadding+len(plain))
	copy(b[EncryptionPadding:], plain)
	e.Encrypt(index, fork, b)
	return b
}

func TestBlockEncryptionJS(t *testing.T) {
	steps := []any{
		appendStep([]byte("hello"), []byte("world"), nil),
		appendStep(pattern(1000, 1), pattern(64, 2)),
		truncateStep(2),
		appendStep([]byte("after"), []byte("a truncation")),
		truncateStep(3),
		appendStep([]byte("z"), pattern(65, 3)),
	}
	key9 := fill(9)
	cores := []encCoreIn{
		{Seed: seedHex(1), EncryptionKey: hx(key9[:]), Mode: "default", Steps: steps},
		{Seed: seedHex(2), EncryptionKey: hx(key9[:]), Mode: "compat", Steps: steps},
		{Seed: seedHex(3), EncryptionKey: hx(key9[:]), Mode: "block", Steps: steps},
		// JS takes encryption keys of any length; so does Go.
		{Seed: seedHex(4), EncryptionKey: hx([]byte("short key")), Mode: "default", Steps: steps[:2]},
	}
	var vectors []encVectorIn
	for _, index := range []uint64{0, 1, 1 << 32, 1<<53 - 1} {
		for _, fork := range []uint64{0, 1, 1<<32 + 5, 1<<53 - 1} {
			for _, n := range []int{0, 1, 63, 64, 65, 200} {
				bk := fill(byte(n))
				vectors = append(vectors, encVectorIn{BlockKey: hx(bk[:]), Index: index, Fork: fork, Plain: hx(pattern(n, byte(index+fork)))})
			}
		}
	}

	var out struct {
		Cores   []encCoreOut `json:"cores"`
		Vectors []struct {
			Cipher string `json:"cipher"`
		} `json:"vectors"`
	}
	jsref.JSON(t, map[string]any{"cores": cores, "vectors": vectors}, &out, "hypercore/encryption.js")
	if len(out.Cores) != len(cores) || len(out.Vectors) != len(vectors) {
		t.Fatalf("JS returned %d cores and %d vectors, want %d and %d", len(out.Cores), len(out.Vectors), len(cores), len(vectors))
	}

	for i, in := range cores {
		got := out.Cores[i]
		t.Run(fmt.Sprintf("%d-%s", i, in.Mode), func(t *testing.T) {
			kp := hcrypto.KeyPairFromSeed([32]byte(unhex(t, in.Seed)))
			var wantKey [32]byte
			if in.Mode == "compat" {
				wantKey = kp.PublicKey
			} else {
				wantKey = DefaultManifest(kp.PublicKey).Hash()
			}
			if got.Key != hx(wantKey[:]) {
				t.Fatalf("JS core key %s, want %x (compat %v)", got.Key, wantKey, got.Compat)
			}
			if got.Compat != (in.Mode == "compat") {
				t.Fatalf("JS core compat = %v for mode %s", got.Compat, in.Mode)
			}
			encKey := unhex(t, in.EncryptionKey)
			var blockKey [32]byte
			switch in.Mode {
			case "default":
				blockKey = BlockEncryptionKey(wantKey, encKey)
			case "compat":
				blockKey = CompatBlockEncryptionKey(wantKey, encKey)
			case "block":
				blockKey = [32]byte(encKey)
			}
			e := NewBlockEncryption(blockKey)
			if hx(e.blockKey[:]) != got.BlockKey || hx(e.blindingKey[:]) != got.BlindingKey {
				t.Fatalf("keys: block %x blinding %x, JS has %s and %s", e.blockKey, e.blindingKey, got.BlockKey, got.BlindingKey)
			}
			if uint64(len(got.Blocks)) != got.Length {
				t.Fatalf("JS returned %d blocks of %d", len(got.Blocks), got.Length)
			}

			var plainBytes uint64
			for _, b := range got.Blocks {
				plain, raw := unhex(t, b.Plain), unhex(t, b.Raw)
				plainBytes += uint64(len(plain))
				if b.Sent != b.Raw {
					t.Errorf("block %d: sent %s, stored %s", b.Index, b.Sent, b.Raw)
				}
				if enc := encrypted(e, b.Index, b.Fork, plain); !bytes.Equal(enc, raw) {
					t.Errorf("block %d fork %d: Encrypt = %x, JS stored %x", b.Index, b.Fork, enc, raw)
				}
				dec, err := e.Decrypt(b.Index, bytes.Clone(raw))
				if err != nil || !bytes.Equal(dec, plain) {
					t.Errorf("block %d: Decrypt = %x, %v; want %x", b.Index, dec, err, plain)
				}
				leaf := hcrypto.LeafHash(raw)
				if b.Node.Index != 2*b.Index || b.Node.Size != uint64(len(raw)) || b.Node.Hash != hx(leaf[:]) {
					t.Errorf("block %d: JS leaf {%d %d %s}, want {%d %d %x}", b.Index, b.Node.Index, b.Node.Size, b.Node.Hash, 2*b.Index, len(raw), leaf)
				}
			}
			if got.ByteLength != plainBytes {
				t.Errorf("JS byteLength %d, want %d (padding not counted)", got.ByteLength, plainBytes)
			}
		})
	}

	for i, v := range vectors {
		e := NewBlockEncryption([32]byte(unhex(t, v.BlockKey)))
		plain := unhex(t, v.Plain)
		if enc := hx(encrypted(e, v.Index, v.Fork, plain)); enc != out.Vectors[i].Cipher {
			t.Errorf("vector %d (index %d fork %d, %d bytes): Encrypt = %s, JS %s", i, v.Index, v.Fork, len(plain), enc, out.Vectors[i].Cipher)
		}
		dec, err := e.Decrypt(v.Index, unhex(t, out.Vectors[i].Cipher))
		if err != nil || !bytes.Equal(dec, plain) {
			t.Errorf("vector %d: Decrypt = %x, %v; want %x", i, dec, err, plain)
		}
	}
}

func TestBlockEncryptionShortBlocks(t *testing.T) {
	e := NewBlockEncryption(fill(5))
	for n := range EncryptionPadding {
		if _, err := e.Decrypt(0, make([]byte, n)); !errors.Is(err, ErrShortBlock) {
			t.Errorf("Decrypt(%d bytes) error = %v, want ErrShortBlock", n, err)
		}
	}
	pt, err := e.Decrypt(0, make([]byte, EncryptionPadding))
	if err != nil || len(pt) != 0 {
		t.Errorf("Decrypt(padding only) = %x, %v; want empty", pt, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Encrypt of a block without room for the padding did not panic")
		}
	}()
	e.Encrypt(0, 0, make([]byte, EncryptionPadding-1))
}

func TestBlockEncryptionInPlace(t *testing.T) {
	e := NewBlockEncryption(fill(6))
	plain := pattern(100, 9)
	block := encrypted(e, 3, 2, plain)
	pt, err := e.Decrypt(3, block)
	if err != nil {
		t.Fatal(err)
	}
	if &pt[0] != &block[EncryptionPadding] {
		t.Error("Decrypt did not decrypt in place")
	}
	if !bytes.Equal(pt, plain) {
		t.Errorf("round trip = %x, want %x", pt, plain)
	}
	if got := testing.AllocsPerRun(100, func() {
		e.Encrypt(3, 2, block)
		e.Decrypt(3, block)
	}); got != 0 {
		t.Errorf("Encrypt+Decrypt allocate %v times, want 0", got)
	}
}

// The fork is blinded: two blocks of different forks differ in their
// padding, which unblinds to the fork with the blinding key only.
func TestBlockEncryptionBlindsFork(t *testing.T) {
	e := NewBlockEncryption(fill(7))
	for _, fork := range []uint64{0, 1, 1 << 40} {
		block := encrypted(e, 11, fork, []byte("data"))
		if binary.LittleEndian.Uint64(block) == fork {
			t.Errorf("fork %d is in the clear", fork)
		}
		if got := unblindFork(e, 11, block); got != fork {
			t.Errorf("unblinded fork = %d, want %d", got, fork)
		}
	}
}

func unblindFork(e *BlockEncryption, index uint64, block []byte) uint64 {
	var nonce [24]byte
	binary.LittleEndian.PutUint64(nonce[:8], index)
	var pad [EncryptionPadding]byte
	salsa20.XORKeyStream(pad[:], block[:EncryptionPadding], nonce[:], &e.blindingKey)
	return binary.LittleEndian.Uint64(pad[:])
}

func TestBlockEncryptionRedacted(t *testing.T) {
	key := fill(0xab)
	e := NewBlockEncryption(key)
	s := fmt.Sprintf("%v %+v %#v %s", e, e, e, e)
	if strings.Contains(s, "171") || strings.Contains(s, "ab") {
		t.Errorf("formatting shows the key: %s", s)
	}
}

func FuzzBlockDecrypt(f *testing.F) {
	e := NewBlockEncryption(fill(8))
	f.Add(uint64(0), []byte{})
	f.Add(uint64(1), []byte{1, 2, 3})
	f.Add(uint64(7), make([]byte, EncryptionPadding))
	f.Add(uint64(1<<63), encrypted(e, 1<<63, 3, []byte("block")))
	f.Fuzz(func(t *testing.T, index uint64, block []byte) {
		in := bytes.Clone(block)
		pt, err := e.Decrypt(index, in)
		if len(block) < EncryptionPadding {
			if !errors.Is(err, ErrShortBlock) {
				t.Fatalf("Decrypt(%d bytes) error = %v, want ErrShortBlock", len(block), err)
			}
			return
		}
		if err != nil || len(pt) != len(block)-EncryptionPadding {
			t.Fatalf("Decrypt(%d bytes) = %d bytes, %v", len(block), len(pt), err)
		}
		// Decryption is a keystream XOR under a nonce the padding fixes:
		// doing it twice gives the block back.
		if _, err := e.Decrypt(index, in); err != nil || !bytes.Equal(in, block) {
			t.Fatalf("decrypting twice = %x, %v; want %x", in, err, block)
		}
	})
}

func FuzzBlockEncryptRoundTrip(f *testing.F) {
	f.Add([]byte{1}, uint64(0), uint64(0), []byte{})
	f.Add([]byte("key"), uint64(5), uint64(1<<40), []byte("hello"))
	f.Fuzz(func(t *testing.T, key []byte, index, fork uint64, plain []byte) {
		e := NewBlockEncryption(BlockEncryptionKey(fill(1), key))
		block := encrypted(e, index, fork, plain)
		if got := unblindFork(e, index, block); got != fork {
			t.Fatalf("padding unblinds to fork %d, want %d", got, fork)
		}
		pt, err := e.Decrypt(index, block)
		if err != nil || !bytes.Equal(pt, plain) {
			t.Fatalf("round trip = %x, %v; want %x", pt, err, plain)
		}
	})
}

func BenchmarkBlockEncryption(b *testing.B) {
	e := NewBlockEncryption(fill(1))
	for _, n := range []int{64, 1024, 64 << 10} {
		block := make([]byte, EncryptionPadding+n)
		b.Run(fmt.Sprintf("Encrypt/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for i := 0; b.Loop(); i++ {
				e.Encrypt(uint64(i), 0, block)
			}
		})
		b.Run(fmt.Sprintf("Decrypt/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for i := 0; b.Loop(); i++ {
				e.Decrypt(uint64(i), block)
			}
		})
	}
}
