// Package z32 implements z-base-32, the base-32 encoding that Pear and
// hypercore use to print keys, and hypercore's id encoding on top of it
// (keys written as 52 z-base-32 characters, 64 hex characters, or a
// pear:// link).
//
// It matches the JS modules z32 1.1.0 and hypercore-id-encoding 1.3.0:
// every string those modules decode, this package decodes to the same
// bytes, and every string they refuse, it refuses.
//
// # Encoding
//
// The alphabet is [Alphabet]. Input bits are taken most significant first,
// five at a time; the last character is padded with zero bits and there is
// no '=' padding, so n bytes encode to ceil(8n/5) characters and a 32-byte
// key to 52.
//
// # Decoding
//
// Decoding follows z32 1.1.0 exactly, which is more lenient than RFC-style
// base-32 decoders in two ways, both deliberate here:
//
//   - Bits left over after the last whole byte are dropped, whatever their
//     value, so several strings decode to the same bytes (a 52-character
//     key has 4 spare bits).
//   - The output length depends only on the input length, and for some
//     lengths it includes a byte that is only partly covered by the input
//     (its missing low bits are zero): a string of 8q+r characters decodes
//     to 5q+k bytes, with k = 0, 1, 1, 2, 2, 3, 4, 4 for r = 0..7. See
//     [DecodedLen].
//
// Any character outside the alphabet (which is lower case only) is an
// error wrapping [ErrInvalidCharacter].
//
// All functions are safe for concurrent use.
package z32

import (
	"errors"
	"fmt"
)

// Alphabet is the z-base-32 alphabet: the character for the 5-bit value v
// is Alphabet[v].
const Alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"

// ErrInvalidCharacter is wrapped by the error returned when a string to
// decode holds a character outside [Alphabet].
var ErrInvalidCharacter = errors.New("z32: invalid character")

// reverse maps a byte to its 5-bit value, or 0xff if it is not in Alphabet.
var reverse = func() (r [256]byte) {
	for i := range r {
		r[i] = 0xff
	}
	for i := 0; i < len(Alphabet); i++ {
		r[Alphabet[i]] = byte(i)
	}
	return r
}()

// tail gives the number of bytes that the last r = n%8 characters of an
// n-character string decode to, as z32 1.1.0 decodes them.
var tail = [8]int{0, 1, 1, 2, 2, 3, 4, 4}

// EncodedLen returns the length of the z-base-32 encoding of n bytes.
func EncodedLen(n int) int { return (n*8 + 4) / 5 }

// DecodedLen returns the number of bytes a valid z-base-32 string of n
// characters decodes to (see the package documentation for the rule).
func DecodedLen(n int) int { return n/8*5 + tail[n%8] }

// AppendEncode appends the z-base-32 encoding of src to dst and returns
// the extended slice.
func AppendEncode(dst, src []byte) []byte {
	var acc uint // pending bits, right-aligned
	var nacc uint
	for _, b := range src {
		acc = acc<<8 | uint(b)
		nacc += 8
		for nacc >= 5 {
			nacc -= 5
			dst = append(dst, Alphabet[(acc>>nacc)&31])
		}
		acc &= 1<<nacc - 1
	}
	if nacc > 0 {
		dst = append(dst, Alphabet[(acc<<(5-nacc))&31])
	}
	return dst
}

// EncodeToString returns the z-base-32 encoding of src.
func EncodeToString(src []byte) string {
	return string(AppendEncode(make([]byte, 0, EncodedLen(len(src))), src))
}

// AppendDecode appends the bytes that the z-base-32 string src decodes to
// onto dst and returns the extended slice. On error it returns dst
// unchanged and an error wrapping [ErrInvalidCharacter].
func AppendDecode(dst []byte, src string) ([]byte, error) {
	start := len(dst)
	var acc uint
	var nacc uint
	for i := 0; i < len(src); i++ {
		v := reverse[src[i]]
		if v == 0xff {
			return dst[:start], invalidChar(src, i)
		}
		acc = acc<<5 | uint(v)
		nacc += 5
		if nacc >= 8 {
			nacc -= 8
			dst = append(dst, byte(acc>>nacc))
			acc &= 1<<nacc - 1
		}
	}
	// z32 1.1.0 reads characters in groups of eight and, for a final group
	// of 1, 3 or 6 characters, also emits the byte that the missing
	// characters would have completed, as if they were zero bits.
	if want := start + DecodedLen(len(src)); len(dst) < want {
		dst = append(dst, byte(acc<<(8-nacc)))
	}
	return dst, nil
}

// DecodeString returns the bytes that the z-base-32 string s decodes to.
// It fails, with an error wrapping [ErrInvalidCharacter], if s holds a
// character outside [Alphabet].
func DecodeString(s string) ([]byte, error) {
	out, err := AppendDecode(make([]byte, 0, DecodedLen(len(s))), s)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func invalidChar(s string, i int) error {
	return fmt.Errorf("%w %q at position %d", ErrInvalidCharacter, s[i], i)
}
