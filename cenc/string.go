package cenc

import (
	"encoding/base64"
	"encoding/hex"
	"iter"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Strings. compact-encoding encodes a JS string, a sequence of UTF-16 code
// units, in one of five text encodings (utf8, ascii, hex, base64,
// utf16le) with a varint byte-length prefix. A Go string is taken to be
// UTF-8 text, the JS string it stands for is its UTF-16 form, and the
// encoders write what JS writes for that string:
//
//   - utf8: JS writes valid UTF-8 only (a lone surrogate becomes U+FFFD).
//     A Go string holding invalid UTF-8 is written with each maximal invalid
//     subsequence replaced by U+FFFD, so the output is always valid UTF-8.
//     Decoding never fails: JS replaces invalid input the same way (the
//     WHATWG decoder) and so does [Decoder.String], so a Go peer reads the
//     same text a JS peer reads.
//   - ascii: JS writes each UTF-16 code unit's low byte (latin1) and reads
//     each byte's low 7 bits.
//   - hex: JS writes one byte per two characters, stopping at the first
//     pair that is not hex; the bytes it then leaves unwritten are
//     unspecified in JS and zero here. It reads lowercase hex.
//   - base64: JS reads both alphabets, skips other characters and stops at
//     the first '='; its length counts characters, less up to two '='
//     padding. It writes padded standard base64.
//   - utf16le: code units little-endian; on decode an odd last byte is
//     ignored and a lone surrogate, which a Go string cannot hold, becomes
//     U+FFFD.

// textEncoding converts between a string and its bytes in one text
// encoding.
type textEncoding interface {
	// size returns the number of bytes JS counts for s.
	size(s string) int
	// put writes s into dst, stopping where JS stops: at len(dst), without
	// splitting a character, or at invalid input.
	put(dst []byte, s string)
	// text returns the string that p decodes to.
	text(p []byte) string
}

// StringCodec is the codec of a string in one text encoding, prefixed with
// its byte length: String (UTF8), ASCII, Hex, Base64 and UTF16LE. As in JS,
// each has a fixed-size form ([StringCodec.Fixed]) and a raw form
// ([StringCodec.Raw]).
type StringCodec struct{ enc textEncoding }

// Codecs of the string family.
var (
	// String is UTF-8 text with a varint byte length (codecs string and
	// utf8). The fast path is AppendString, StringLen and Decoder.String.
	String = StringCodec{utf8Text{}}
	// UTF8 is String.
	UTF8 = String
	// ASCII is latin1 on encode and 7-bit ASCII on decode (codec ascii).
	ASCII = StringCodec{asciiText{}}
	// Hex is a hex string written as the bytes it spells (codec hex).
	Hex = StringCodec{hexText{}}
	// Base64 is a base64 string written as the bytes it spells (codec
	// base64).
	Base64 = StringCodec{base64Text{}}
	// UTF16LE is text as little-endian UTF-16 code units (codecs utf16le
	// and ucs2).
	UTF16LE = StringCodec{utf16Text{}}
	// UCS2 is UTF16LE.
	UCS2 = UTF16LE
)

// Len returns the encoded size of s.
func (c StringCodec) Len(s string) int { return BufferLen(c.enc.size(s)) }

// Append appends the byte length of s in c's encoding, then s in it.
func (c StringCodec) Append(b []byte, s string) []byte {
	n := c.enc.size(s)
	return appendText(AppendUint(b, uint64(n)), c.enc, s, n)
}

// Decode reads a length-prefixed string.
func (c StringCodec) Decode(d *Decoder) string {
	p := d.Buffer()
	if d.err != nil {
		return ""
	}
	return c.enc.text(p)
}

// Fixed returns the codec of s in c's encoding in exactly n bytes, without
// a length (JS string codecs' fixed(n)). A longer s is cut where JS cuts it;
// a shorter one is padded with zeros (JS leaves those bytes unspecified).
// Decoding reads all n bytes, padding included.
func (c StringCodec) Fixed(n int) Codec[string] {
	return fixedCodec(n,
		func(b []byte, s string) []byte { return appendText(b, c.enc, s, n) },
		func(d *Decoder) string { return c.text(d.take(n)) })
}

// Raw returns the codec of s in c's encoding without a length, running to
// the end of the input (compact-encoding's raw.utf8, raw.hex, ...).
func (c StringCodec) Raw() Codec[string] {
	return funcCodec[string]{c.enc.size,
		func(b []byte, s string) []byte { return appendText(b, c.enc, s, c.enc.size(s)) },
		func(d *Decoder) string { return c.text(d.Raw()) }}
}

// text decodes p unless the read that produced it failed.
func (c StringCodec) text(p []byte) string {
	if p == nil {
		return ""
	}
	return c.enc.text(p)
}

// appendText appends exactly n bytes: s in enc, then zeros if s stops
// short.
func appendText(b []byte, enc textEncoding, s string, n int) []byte {
	off := len(b)
	b = append(b, make([]byte, n)...)
	enc.put(b[off:], s)
	return b
}

// StringLen returns the size of AppendString(nil, s).
func StringLen(s string) int {
	if utf8.ValidString(s) {
		return BufferLen(len(s))
	}
	return BufferLen(utf8Text{}.size(s))
}

// AppendString appends s as UTF-8 with a varint byte length (codec string).
// Invalid UTF-8 in s is replaced as described for [String].
func AppendString(b []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(AppendUint(b, uint64(len(s))), s...)
	}
	return String.Append(b, s)
}

// String reads a UTF-8 string with a varint byte length (codec string).
// The result is a copy. Invalid UTF-8 is replaced as JS replaces it.
func (d *Decoder) String() string {
	p := d.Buffer()
	if d.err != nil {
		return ""
	}
	return utf8Text{}.text(p)
}

type utf8Text struct{}

func (utf8Text) size(s string) int {
	if utf8.ValidString(s) {
		return len(s)
	}
	n := 0
	for i := 0; i < len(s); {
		w, ok := utf8Next(s, i)
		i += w
		if ok {
			n += w
		} else {
			n += utf8.RuneLen(utf8.RuneError)
		}
	}
	return n
}

func (utf8Text) put(dst []byte, s string) {
	n := 0
	for i := 0; i < len(s); {
		w, ok := utf8Next(s, i)
		c := s[i : i+w]
		if !ok {
			c = string(utf8.RuneError)
		}
		if n+len(c) > len(dst) {
			break
		}
		n += copy(dst[n:], c)
		i += w
	}
}

func (utf8Text) text(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	b := make([]byte, 0, len(p)+len(p)/2)
	for i := 0; i < len(p); {
		w, ok := utf8Next(p, i)
		if ok {
			b = append(b, p[i:i+w]...)
		} else {
			b = utf8.AppendRune(b, utf8.RuneError)
		}
		i += w
	}
	return string(b)
}

// utf8Next returns the length of the UTF-8 sequence at p[i] and whether it
// is valid. An invalid one is the maximal subpart of a valid sequence that
// the WHATWG decoder (and so JS) replaces with one U+FFFD, and at least one
// byte.
func utf8Next[T string | []byte](p T, i int) (int, bool) {
	c := p[i]
	var need int
	lo, hi := byte(0x80), byte(0xbf)
	switch {
	case c < 0x80:
		return 1, true
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c == 0xed:
		need, hi = 2, 0x9f
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		need, lo = 3, 0x90
	case c == 0xf4:
		need, hi = 3, 0x8f
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 1, false
	}
	for j := 1; j <= need; j++ {
		if i+j >= len(p) || p[i+j] < lo || p[i+j] > hi {
			return j, false
		}
		lo, hi = 0x80, 0xbf
	}
	return need + 1, true
}

// utf16Len returns the number of UTF-16 code units of s, JS's length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// units yields the UTF-16 code units of s.
func units(s string) iter.Seq[uint16] {
	return func(yield func(uint16) bool) {
		for _, r := range s {
			if r < 0x10000 {
				if !yield(uint16(r)) {
					return
				}
				continue
			}
			r1, r2 := utf16.EncodeRune(r)
			if !yield(uint16(r1)) || !yield(uint16(r2)) {
				return
			}
		}
	}
}

type asciiText struct{}

func (asciiText) size(s string) int { return utf16Len(s) }

func (asciiText) put(dst []byte, s string) {
	n := 0
	for u := range units(s) {
		if n == len(dst) {
			return
		}
		dst[n] = byte(u)
		n++
	}
}

func (asciiText) text(p []byte) string {
	b := make([]byte, len(p))
	for i, c := range p {
		b[i] = c & 0x7f
	}
	return string(b)
}

type hexText struct{}

func (hexText) size(s string) int { return utf16Len(s) / 2 }

func (hexText) put(dst []byte, s string) {
	n := 0
	for ; n < len(dst) && 2*n+1 < len(s); n++ {
		hi, ok1 := nibble(s[2*n])
		lo, ok2 := nibble(s[2*n+1])
		if !ok1 || !ok2 {
			break
		}
		dst[n] = hi<<4 | lo
	}
}

// nibble returns the value of a hex digit.
func nibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (hexText) text(p []byte) string { return hex.EncodeToString(p) }

type base64Text struct{}

func (base64Text) size(s string) int {
	n := utf16Len(s)
	if strings.HasSuffix(s, "=") {
		n--
		if n > 1 && strings.HasSuffix(s, "==") {
			n--
		}
	}
	return n * 3 / 4
}

func (base64Text) put(dst []byte, s string) {
	n, acc, bits := 0, uint(0), 0
	for i := 0; i < len(s) && n < len(dst); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		v, ok := base64Value(c)
		if !ok {
			continue
		}
		acc, bits = acc<<6|uint(v), bits+6
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> bits)
			n++
		}
	}
}

func (base64Text) text(p []byte) string { return base64.StdEncoding.EncodeToString(p) }

// base64Value returns the value of a character of the standard or the URL
// alphabet.
func base64Value(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+' || c == '-':
		return 62, true
	case c == '/' || c == '_':
		return 63, true
	}
	return 0, false
}

type utf16Text struct{}

func (utf16Text) size(s string) int { return 2 * utf16Len(s) }

func (utf16Text) put(dst []byte, s string) {
	n := 0
	for u := range units(s) {
		if n+2 > len(dst) {
			break
		}
		dst[n], dst[n+1] = byte(u), byte(u>>8)
		n += 2
	}
}

func (utf16Text) text(p []byte) string {
	u := make([]uint16, len(p)/2)
	for i := range u {
		u[i] = uint16(p[2*i]) | uint16(p[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}
