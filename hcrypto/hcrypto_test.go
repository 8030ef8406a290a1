package hcrypto_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/nacl/box"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/z32"
)

func TestSmallOrderEncodings(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	points, encodings := smallOrderEncodings(r)
	if len(points) != 8 {
		t.Fatalf("got %d torsion points, want 8", len(points))
	}
	// 5 distinct y coordinates (1, -1, 0 and two of order 8) with two
	// signs each, and y+p for y = 0 and y = 1 with two signs each.
	if len(encodings) != 14 {
		t.Fatalf("got %d small-order encodings, want 14", len(encodings))
	}
	kp := hcrypto.KeyPairFromSeed([32]byte{1})
	msg := []byte("m")
	sig := hcrypto.Sign(kp.SecretKey, msg)
	for _, e := range encodings {
		if hcrypto.Verify(e, msg, sig[:]) {
			t.Errorf("Verify accepts the small-order key %x", e)
		}
		bad := append(append([]byte(nil), e...), sig[32:]...)
		if hcrypto.Verify(kp.PublicKey[:], msg, bad) {
			t.Errorf("Verify accepts the small-order R %x", e)
		}
	}
}

// TestVerifyStricterThanStdlib checks that Verify accepts nothing that
// crypto/ed25519 refuses, and that the adversarial cases do include
// signatures crypto/ed25519 accepts and libsodium (and so Verify) refuses.
func TestVerifyStricterThanStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	refusedOnlyByUs := map[string]int{}
	for _, c := range adversarialCases(r) {
		pk, msg, sig := unhex(t, c.PublicKey), unhex(t, c.Message), unhex(t, c.Signature)
		ours := hcrypto.Verify(pk, msg, sig)
		std := len(pk) == ed25519.PublicKeySize && ed25519.Verify(pk, msg, sig)
		if ours && !std {
			t.Errorf("%s: Verify accepts what crypto/ed25519 refuses", c.name)
		}
		if std && !ours {
			refusedOnlyByUs[c.name]++
		}
	}
	for _, name := range []string{"small-order pk and R, S=0", "identity R, S=k·a"} {
		if refusedOnlyByUs[name] == 0 {
			t.Errorf("no %q case is accepted by crypto/ed25519; the cases do not test the extra checks", name)
		}
	}
	t.Logf("refused by Verify, accepted by crypto/ed25519: %v", refusedOnlyByUs)
}

func TestVerifyIdentityKey(t *testing.T) {
	// PROTOCOLS.md §2.1: this pair verifies in crypto/ed25519 for any
	// message, but not in libsodium.
	pk := append([]byte{1}, make([]byte, 31)...)
	sig := append([]byte{1}, make([]byte, 63)...)
	if !ed25519.Verify(pk, []byte("any"), sig) {
		t.Fatal("crypto/ed25519 refuses the identity key; the premise of this test is gone")
	}
	if hcrypto.Verify(pk, []byte("any"), sig) {
		t.Error("Verify accepts the identity key")
	}
}

func TestSignVerify(t *testing.T) {
	kp, err := hcrypto.GenerateKeyPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !kp.Validate() {
		t.Fatal("generated key pair does not validate")
	}
	for _, n := range []int{0, 1, 64, 1000} {
		msg := bytes.Repeat([]byte{byte(n)}, n)
		sig := hcrypto.Sign(kp.SecretKey, msg)
		if !hcrypto.Verify(kp.PublicKey[:], msg, sig[:]) || !kp.PublicKey.Verify(msg, sig[:]) {
			t.Errorf("len=%d: signature does not verify", n)
		}
		if hcrypto.Verify(kp.PublicKey[:], append(msg, 0), sig[:]) {
			t.Errorf("len=%d: signature verifies for another message", n)
		}
	}
	other := kp
	other.PublicKey[0] ^= 1
	if other.Validate() {
		t.Error("Validate accepts a key pair whose public key was changed")
	}
	if got, want := kp.SecretKey.PublicKey(), kp.PublicKey; got != want {
		t.Errorf("SecretKey.PublicKey() = %v, want %v", got, want)
	}
	if seed := kp.SecretKey.Seed(); hcrypto.KeyPairFromSeed(seed) != kp {
		t.Error("KeyPairFromSeed(Seed()) differs")
	}
}

func TestGenerateKeyPairReader(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	kp, err := hcrypto.GenerateKeyPair(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if want := hcrypto.KeyPairFromSeed([32]byte(seed)); kp != want {
		t.Error("GenerateKeyPair(reader of seed) != KeyPairFromSeed(seed)")
	}
	_, err = hcrypto.GenerateKeyPair(iotest.ErrReader(errors.New("boom")))
	if !errors.Is(err, hcrypto.ErrRandomSource) {
		t.Errorf("GenerateKeyPair(failing reader) error = %v, want ErrRandomSource", err)
	}
}

func TestPublicKeyText(t *testing.T) {
	kp := hcrypto.KeyPairFromSeed([32]byte{3})
	s := kp.PublicKey.String()
	if want := z32.Encode(kp.PublicKey); s != want || len(s) != 52 {
		t.Fatalf("String() = %q, want %q", s, want)
	}
	for _, in := range []string{s, fmt.Sprintf("%x", kp.PublicKey[:]), "pear://" + s + "/app"} {
		var k hcrypto.PublicKey
		if err := k.UnmarshalText([]byte(in)); err != nil || k != kp.PublicKey {
			t.Errorf("UnmarshalText(%q) = %v, %v", in, k, err)
		}
		if k, err := hcrypto.ParsePublicKey(in); err != nil || k != kp.PublicKey {
			t.Errorf("ParsePublicKey(%q) = %v, %v", in, k, err)
		}
	}
	if _, err := hcrypto.ParsePublicKey("nope"); !errors.Is(err, z32.ErrInvalidKey) {
		t.Errorf("ParsePublicKey(nope) error = %v, want z32.ErrInvalidKey", err)
	}
}

func TestSecretKeyNotPrinted(t *testing.T) {
	kp := hcrypto.KeyPairFromSeed([32]byte{0xab, 0xcd})
	secretHex := fmt.Sprintf("%x", kp.SecretKey[:8])
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		if out := fmt.Sprintf(format, kp); strings.Contains(out, secretHex) {
			t.Errorf("Sprintf(%q, kp) prints the secret key: %s", format, out)
		}
	}
}

func TestTreeHashes(t *testing.T) {
	if got, want := hcrypto.TreeHash(nil), hcrypto.Hash([]byte{2}); got != want {
		t.Errorf("TreeHash(nil) = %x, want H(02) = %x", got, want)
	}
	data := []byte("hello")
	if got, want := hcrypto.LeafHash(data), hcrypto.Hash([]byte{0}, []byte{5, 0, 0, 0, 0, 0, 0, 0}, data); got != want {
		t.Errorf("LeafHash = %x, want %x", got, want)
	}
	a := hcrypto.Node{Index: 0, Size: 5, Hash: hcrypto.LeafHash([]byte("hello"))}
	b := hcrypto.Node{Index: 2, Size: 5, Hash: hcrypto.LeafHash([]byte("world"))}
	if hcrypto.ParentHash(a, b) != hcrypto.ParentHash(b, a) {
		t.Error("ParentHash depends on argument order")
	}
	want := hcrypto.Hash([]byte{1}, []byte{10, 0, 0, 0, 0, 0, 0, 0}, a.Hash[:], b.Hash[:])
	if got := hcrypto.ParentHash(b, a); got != want {
		t.Errorf("ParentHash = %x, want %x", got, want)
	}
	if hcrypto.Hash() != hcrypto.Hash(nil) || hcrypto.Hash([]byte("ab")) != hcrypto.Hash([]byte("a"), []byte("b")) {
		t.Error("Hash is not the hash of the concatenation")
	}
}

func TestNamespace(t *testing.T) {
	ns := hcrypto.Namespace("hypercore", 6)
	ids := hcrypto.NamespaceIDs("hypercore", 5, 0)
	if len(ns) != 6 || ids[0] != ns[5] || ids[1] != ns[0] {
		t.Error("Namespace and NamespaceIDs disagree")
	}
	inner := hcrypto.Hash([]byte("hypercore"))
	if want := hcrypto.Hash(inner[:], []byte{3}); ns[3] != want {
		t.Errorf("Namespace[3] = %x, want H(H(name) ‖ 03) = %x", ns[3], want)
	}
	if got := hcrypto.Namespace("x", 0); len(got) != 0 {
		t.Errorf("Namespace(x, 0) has %d entries", len(got))
	}
}

func TestAllocs(t *testing.T) {
	data := make([]byte, 1024)
	node := hcrypto.Node{Index: 1, Size: 10}
	roots := []hcrypto.Node{node, node, node}
	for name, f := range map[string]func(){
		"LeafHash":   func() { hcrypto.LeafHash(data) },
		"ParentHash": func() { hcrypto.ParentHash(node, node) },
		"TreeHash":   func() { hcrypto.TreeHash(roots) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s allocates %v times per call, want 0", name, n)
		}
	}
}

func TestRandomBytes(t *testing.T) {
	a, b := hcrypto.RandomBytes(32), hcrypto.RandomBytes(32)
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Errorf("RandomBytes(32) = %x, %x", a, b)
	}
}

func FuzzVerify(f *testing.F) {
	kp := hcrypto.KeyPairFromSeed([32]byte{1})
	msg := []byte("hello")
	sig := hcrypto.Sign(kp.SecretKey, msg)
	f.Add(kp.PublicKey[:], msg, sig[:])
	f.Add(append([]byte{1}, make([]byte, 31)...), msg, append([]byte{1}, make([]byte, 63)...))
	f.Add([]byte{}, []byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 32), msg, bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, pk, msg, sig []byte) {
		ours := hcrypto.Verify(pk, msg, sig)
		if ours && !ed25519.Verify(pk, msg, sig) {
			t.Fatalf("Verify accepts what crypto/ed25519 refuses: pk %x sig %x", pk, sig)
		}
	})
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	if _, err := fmt.Sscanf(s, "%x", &b); err != nil && s != "" {
		t.Fatal(err)
	}
	return b
}

func BenchmarkLeafHash(b *testing.B) {
	for _, n := range []int{64, 1024, 64 << 10} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			data := make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				hcrypto.LeafHash(data)
			}
		})
	}
}

func BenchmarkParentHash(b *testing.B) {
	x := hcrypto.Node{Index: 0, Size: 1024}
	y := hcrypto.Node{Index: 2, Size: 1024}
	b.ReportAllocs()
	for b.Loop() {
		hcrypto.ParentHash(x, y)
	}
}

func BenchmarkTreeHash(b *testing.B) {
	roots := make([]hcrypto.Node, 8)
	b.ReportAllocs()
	for b.Loop() {
		hcrypto.TreeHash(roots)
	}
}

func BenchmarkSign(b *testing.B) {
	kp := hcrypto.KeyPairFromSeed([32]byte{1})
	msg := make([]byte, 112) // the size of a hypercore signable
	b.ReportAllocs()
	for b.Loop() {
		hcrypto.Sign(kp.SecretKey, msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	kp := hcrypto.KeyPairFromSeed([32]byte{1})
	msg := make([]byte, 112)
	sig := hcrypto.Sign(kp.SecretKey, msg)
	b.ReportAllocs()
	for b.Loop() {
		hcrypto.Verify(kp.PublicKey[:], msg, sig[:])
	}
}

func BenchmarkDiscoveryKey(b *testing.B) {
	var key [32]byte
	b.ReportAllocs()
	for b.Loop() {
		hcrypto.DiscoveryKey(key)
	}
}

func TestSealedBoxes(t *testing.T) {
	kp, err := hcrypto.GenerateEncryptionKeyPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("secret")
	ct, err := hcrypto.Encrypt(msg, kp.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(ct) != len(msg)+hcrypto.SealOverhead {
		t.Errorf("ciphertext is %d bytes, want %d", len(ct), len(msg)+hcrypto.SealOverhead)
	}
	if got, ok := hcrypto.Decrypt(ct, kp); !ok || !bytes.Equal(got, msg) {
		t.Errorf("Decrypt = %q, %v; want %q", got, ok, msg)
	}
	other := hcrypto.EncryptionKeyPairFromSeed([32]byte{1})
	if _, ok := hcrypto.Decrypt(ct, other); ok {
		t.Error("Decrypt opens a box sealed for another key")
	}

	forged := forgedBox(kp.PublicKey, []byte("forged"))
	if _, ok := box.OpenAnonymous(nil, forged, &kp.PublicKey, &kp.SecretKey); !ok {
		t.Fatal("nacl/box refuses the forged box; the premise of this test is gone")
	}
	if _, ok := hcrypto.Decrypt(forged, kp); ok {
		t.Error("Decrypt opens a box from a small-order ephemeral key")
	}
	for _, u := range lowOrderX25519() {
		if _, err := hcrypto.Encrypt(msg, u); !errors.Is(err, hcrypto.ErrLowOrderKey) {
			t.Errorf("Encrypt to small-order key %x: error %v, want ErrLowOrderKey", u, err)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v", kp, kp, kp); strings.Contains(s, fmt.Sprintf("%x", kp.SecretKey[:8])) {
		t.Errorf("formatting an EncryptionKeyPair prints its secret key: %s", s)
	}
}

func FuzzDecrypt(f *testing.F) {
	kp := hcrypto.EncryptionKeyPairFromSeed([32]byte{1})
	ct, _ := hcrypto.Encrypt([]byte("hello"), kp.PublicKey)
	f.Add(ct)
	f.Add(forgedBox(kp.PublicKey, []byte("x")))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, ct []byte) {
		m, ok := hcrypto.Decrypt(ct, kp)
		if ok && len(m) != len(ct)-hcrypto.SealOverhead {
			t.Fatalf("Decrypt gave %d bytes from %d", len(m), len(ct))
		}
	})
}
