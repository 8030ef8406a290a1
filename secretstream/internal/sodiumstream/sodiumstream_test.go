package sodiumstream

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305"
)

// refState is a literal reading of libsodium's crypto_secretstream.c with
// separate ChaCha20 and Poly1305, to check the fast path against.
type refState struct {
	k     [32]byte
	nonce [12]byte
}

func refInit(key *[32]byte, header *[24]byte) *refState {
	s := new(refState)
	sub, _ := chacha20.HChaCha20(key[:], header[:16])
	copy(s.k[:], sub)
	binary.LittleEndian.PutUint32(s.nonce[:4], 1)
	copy(s.nonce[4:], header[16:])
	return s
}

func (s *refState) stream(ic uint32, dst, src []byte) {
	c, _ := chacha20.NewUnauthenticatedCipher(s.k[:], s.nonce[:])
	c.SetCounter(ic)
	c.XORKeyStream(dst, src)
}

func (s *refState) mac(block, c []byte) [16]byte {
	var pk [32]byte
	var blk0 [64]byte
	s.stream(0, blk0[:], blk0[:])
	copy(pk[:], blk0[:32])
	h := poly1305.New(&pk)
	// no additional data: nothing to pad
	h.Write(block)
	h.Write(c)
	// libsodium: _pad0, (0x10 - (sizeof block) + mlen) & 0xf
	h.Write(make([]byte, (0x10-64+len(c))&0xf))
	var lens [16]byte
	binary.LittleEndian.PutUint64(lens[8:], uint64(64+len(c)))
	h.Write(lens[:])
	var out [16]byte
	h.Sum(out[:0])
	return out
}

func (s *refState) after(tag byte, mac []byte) {
	for i := range 8 {
		s.nonce[4+i] ^= mac[i]
	}
	c := binary.LittleEndian.Uint32(s.nonce[:4]) + 1
	binary.LittleEndian.PutUint32(s.nonce[:4], c)
	if tag&TagRekey != 0 || c == 0 {
		var buf [40]byte
		copy(buf[:32], s.k[:])
		copy(buf[32:], s.nonce[4:])
		s.stream(0, buf[:], buf[:])
		copy(s.k[:], buf[:32])
		copy(s.nonce[4:], buf[32:])
		binary.LittleEndian.PutUint32(s.nonce[:4], 1)
	}
}

func (s *refState) push(m []byte, tag byte) []byte {
	var block [64]byte
	block[0] = tag
	s.stream(1, block[:], block[:])
	c := make([]byte, len(m))
	s.stream(2, c, m)
	mac := s.mac(block[:], c)
	out := append([]byte{block[0]}, c...)
	out = append(out, mac[:]...)
	s.after(tag, mac[:])
	return out
}

func TestPushMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var key [32]byte
	var header [24]byte
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	for i := range header {
		header[i] = byte(rng.Uint32())
	}
	p := NewPush(&key, &header)
	q := NewPull(&key, &header)
	ref := refInit(&key, &header)
	for i, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 24, 63, 64, 65, 1000, 4096, 4104, 70000, 65536} {
		m := make([]byte, n)
		for j := range m {
			m[j] = byte(rng.Uint32())
		}
		tag := byte(i % 4) // exercises TagRekey and TagFinal too
		want := ref.push(m, tag)
		got := p.Push(nil, m, tag)
		if !bytes.Equal(got, want) {
			t.Fatalf("len=%d,tag=%d: Push = %x..., want %x...", n, tag, got[:min(len(got), 32)], want[:min(len(want), 32)])
		}
		back, gotTag, err := q.Pull(nil, got)
		if err != nil {
			t.Fatalf("len=%d,tag=%d: Pull: %v", n, tag, err)
		}
		if gotTag != tag || !bytes.Equal(back, m) {
			t.Fatalf("len=%d,tag=%d: Pull = %d bytes, tag %d; want the message back", n, tag, len(back), gotTag)
		}
	}
}

func TestCounterWrapRekeys(t *testing.T) {
	var key [32]byte
	var header [24]byte
	p := NewPush(&key, &header)
	ref := refInit(&key, &header)
	// Jump both to just before the 32-bit counter wraps.
	binary.LittleEndian.PutUint32(p.nonce[:4], 0xffffffff)
	binary.LittleEndian.PutUint32(ref.nonce[:4], 0xffffffff)
	for i := range 3 {
		m := []byte(fmt.Sprint("message ", i))
		if got, want := p.Push(nil, m, TagMessage), ref.push(m, TagMessage); !bytes.Equal(got, want) {
			t.Fatalf("message %d across the wrap: got %x, want %x", i, got, want)
		}
	}
}

func TestPullRejects(t *testing.T) {
	var key [32]byte
	var header [24]byte
	key[0] = 1
	p := NewPush(&key, &header)
	c1 := p.Push(nil, []byte("one"), TagMessage)
	c2 := p.Push(nil, []byte("two"), TagMessage)

	tests := []struct {
		name string
		msgs [][]byte
	}{
		{"replay", [][]byte{c1, c1}},
		{"reorder", [][]byte{c2}},
		{"flipped tag", [][]byte{append([]byte{c1[0] ^ 1}, c1[1:]...)}},
		{"flipped mac", [][]byte{append(append([]byte{}, c1[:len(c1)-1]...), c1[len(c1)-1]^1)}},
		{"truncated", [][]byte{c1[:len(c1)-1]}},
		{"short", [][]byte{c1[:16]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewPull(&key, &header)
			var err error
			for _, m := range tt.msgs {
				if _, _, err = q.Pull(nil, m); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("Pull accepted a bad message")
			}
		})
	}
	// A failed pull leaves the state usable for the right message.
	q := NewPull(&key, &header)
	if _, _, err := q.Pull(nil, c2); err == nil {
		t.Fatal("Pull accepted message 2 first")
	}
	if m, _, err := q.Pull(nil, c1); err != nil || string(m) != "one" {
		t.Fatalf("Pull(c1) after a failure = %q, %v; want \"one\", nil", m, err)
	}
}

func BenchmarkSealInPlace(b *testing.B) {
	for _, n := range []int{64, 1024, 65536} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var key [32]byte
			var header [24]byte
			p := NewPush(&key, &header)
			buf := make([]byte, Headroom+n+MacSize)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				p.SealInPlace(buf, TagMessage)
			}
		})
	}
}

func BenchmarkOpenInPlace(b *testing.B) {
	for _, n := range []int{64, 1024, 65536} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var key [32]byte
			var header [24]byte
			p := NewPush(&key, &header)
			msgs := make([][]byte, 1024)
			for i := range msgs {
				msgs[i] = p.Push(make([]byte, Headroom-1, Headroom-1+n+Overhead), make([]byte, n), TagMessage)
			}
			buf := make([]byte, Headroom-1+n+Overhead)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			q := NewPull(&key, &header)
			i := 0
			for b.Loop() {
				if i == len(msgs) {
					b.StopTimer()
					q = NewPull(&key, &header)
					i = 0
					b.StartTimer()
				}
				copy(buf, msgs[i])
				if _, _, err := q.OpenInPlace(buf); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
