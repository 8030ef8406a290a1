package z32_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gopear/gopear/z32"
)

func TestRoundTrip(t *testing.T) {
	for n := range 100 {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*37 + n)
		}
		s := z32.EncodeToString(src)
		if len(s) != z32.EncodedLen(n) {
			t.Fatalf("len=%d: encoding has %d characters, EncodedLen says %d", n, len(s), z32.EncodedLen(n))
		}
		got, err := z32.DecodeString(s)
		if err != nil {
			t.Fatalf("len=%d: DecodeString(%q): %v", n, s, err)
		}
		// An encoding whose last character is only partly used decodes
		// to one byte more when z32 emits the partial byte (see DecodedLen).
		if !bytes.Equal(got[:n], src) || len(got) != z32.DecodedLen(len(s)) {
			t.Fatalf("len=%d: DecodeString(EncodeToString(x)) = %x, want %x", n, got, src)
		}
	}
}

func TestDecodedLen(t *testing.T) {
	// z32 1.1.0 decodes 8q+r characters to 5q+k bytes; k by r.
	tests := []struct{ chars, bytes int }{
		{0, 0}, {1, 1}, {2, 1}, {3, 2}, {4, 2}, {5, 3}, {6, 4}, {7, 4}, {8, 5},
		{9, 6}, {16, 10}, {52, 32}, {53, 33}, {54, 34},
	}
	for _, tt := range tests {
		if got := z32.DecodedLen(tt.chars); got != tt.bytes {
			t.Errorf("DecodedLen(%d) = %d, want %d", tt.chars, got, tt.bytes)
		}
	}
}

func TestInvalidCharacter(t *testing.T) {
	for _, s := range []string{"Y", "ybn0", "yy yy", "é", "ybndrfg8ejkmcpqxot1uwisza345h76=", "\x00"} {
		_, err := z32.DecodeString(s)
		if !errors.Is(err, z32.ErrInvalidCharacter) {
			t.Errorf("DecodeString(%q) error = %v, want ErrInvalidCharacter", s, err)
		}
	}
	dst := []byte("keep")
	if got, err := z32.AppendDecode(dst, "yy!"); err == nil || string(got) != "keep" {
		t.Errorf("AppendDecode on error = %q, %v; want dst unchanged and an error", got, err)
	}
}

func TestDecodeKey(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(i)
	}
	zs := z32.Encode(key)
	hx := fmt.Sprintf("%x", key)
	for _, s := range []string{zs, hx, strings.ToUpper(hx), "pear://" + zs, "pear://" + zs + "/a/b", "pear://" + hx} {
		got, err := z32.Decode(s)
		if err != nil || got != key {
			t.Errorf("Decode(%q) = %x, %v; want %x", s, got, err, key)
		}
		if n, err := z32.Normalize(s); err != nil || n != zs {
			t.Errorf("Normalize(%q) = %q, %v; want %q", s, n, err, zs)
		}
	}
	for _, s := range []string{"", zs[:51], zs + "y", hx[:63], hx[:63] + "x", "pear://", "PEAR://" + zs, strings.ToUpper(zs)} {
		if _, err := z32.Decode(s); !errors.Is(err, z32.ErrInvalidKey) {
			t.Errorf("Decode(%q) error = %v, want ErrInvalidKey", s, err)
		}
		if z32.IsValid(s) {
			t.Errorf("IsValid(%q) = true", s)
		}
	}
	if _, err := z32.Decode(zs[:51] + "!"); !errors.Is(err, z32.ErrInvalidCharacter) {
		t.Errorf("Decode of a bad z32 character: error %v does not wrap ErrInvalidCharacter", err)
	}
}

func FuzzDecodeString(f *testing.F) {
	for _, s := range []string{"", "y", "pbwo", "5db4ysm3yq3e47ehpafznb5zmahe7tpd37ujzze6x5nbznhxp33y", "yyyyyy", "Y!", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := z32.DecodeString(s)
		valid := strings.Trim(s, z32.Alphabet) == "" // no character outside the alphabet
		if (err == nil) != valid {
			t.Fatalf("DecodeString(%q) error %v, but valid = %v", s, err, valid)
		}
		if err != nil {
			return
		}
		if len(b) != z32.DecodedLen(len(s)) {
			t.Fatalf("DecodeString(%q) gave %d bytes, DecodedLen says %d", s, len(b), z32.DecodedLen(len(s)))
		}
		// Re-encoding keeps every whole 5-bit group of the input that the
		// output covers.
		enc := z32.EncodeToString(b)
		n := min(len(s), len(b)*8/5)
		if enc[:n] != s[:n] {
			t.Fatalf("EncodeToString(DecodeString(%q)) = %q, first %d characters differ", s, enc, n)
		}
	})
}

func FuzzDecode(f *testing.F) {
	var key [32]byte
	zs := z32.Encode(key)
	f.Add(zs)
	f.Add(fmt.Sprintf("%x", key))
	f.Add("pear://" + zs + "/x")
	f.Add("pear://")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := z32.Decode(s)
		if err != nil {
			if !errors.Is(err, z32.ErrInvalidKey) {
				t.Fatalf("Decode(%q) error %v does not wrap ErrInvalidKey", s, err)
			}
			return
		}
		again, err := z32.Decode(z32.Encode(key))
		if err != nil || again != key {
			t.Fatalf("Decode(Encode(Decode(%q))) = %x, %v; want %x", s, again, err, key)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	var key [32]byte
	b.ReportAllocs()
	for b.Loop() {
		z32.Encode(key)
	}
}

func BenchmarkDecode(b *testing.B) {
	s := z32.Encode([32]byte{1, 2, 3})
	b.ReportAllocs()
	for b.Loop() {
		z32.Decode(s)
	}
}
