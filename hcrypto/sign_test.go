package hcrypto

import (
	"crypto/ed25519"
	"testing"
)

// TestKeyPairSign checks that KeyPair.Sign, called again and again on one
// key pair and on several in turn, gives exactly the signatures of
// crypto/ed25519 and of Sign.
func TestKeyPairSign(t *testing.T) {
	var pairs []*KeyPair
	for i := range 4 {
		var seed [SeedSize]byte
		seed[0] = byte(i + 1)
		kp := KeyPairFromSeed(seed)
		pairs = append(pairs, &kp)
	}
	for round := range 3 {
		for i, kp := range pairs {
			msg := []byte{byte(round), byte(i), 'm'}
			got := kp.Sign(msg)
			want := ed25519.Sign(kp.SecretKey[:], msg)
			if string(got[:]) != string(want) {
				t.Fatalf("round %d key %d: KeyPair.Sign differs from ed25519.Sign", round, i)
			}
			if byValue := Sign(kp.SecretKey, msg); byValue != got {
				t.Fatalf("round %d key %d: KeyPair.Sign differs from Sign", round, i)
			}
		}
	}
}

func BenchmarkKeyPairSign(b *testing.B) {
	kp := KeyPairFromSeed([SeedSize]byte{1})
	msg := make([]byte, 112)
	b.ReportAllocs()
	for b.Loop() {
		kp.Sign(msg)
	}
}

func BenchmarkSignByValue(b *testing.B) {
	kp := KeyPairFromSeed([SeedSize]byte{1})
	msg := make([]byte, 112)
	b.ReportAllocs()
	for b.Loop() {
		Sign(kp.SecretKey, msg)
	}
}
