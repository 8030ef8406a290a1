package cenc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUint(t *testing.T) {
	tests := []struct {
		v   uint64
		hex string
	}{
		{0, "00"},
		{0xfc, "fc"},
		{0xfd, "fd fd00"},
		{0xfe, "fd fe00"},
		{0xffff, "fd ffff"},
		{0x10000, "fe 00000100"},
		{0xffffffff, "fe ffffffff"},
		{1 << 32, "ff 0000000001000000"},
		{MaxSafeInteger, "ff ffffffffffff1f00"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("v=%#x", tt.v), func(t *testing.T) {
			want := unhex(t, tt.hex)
			if got := AppendUint(nil, tt.v); !bytes.Equal(got, want) {
				t.Errorf("AppendUint = %x, want %x", got, want)
			}
			if got := UintLen(tt.v); got != len(want) {
				t.Errorf("UintLen = %d, want %d", got, len(want))
			}
			d := NewDecoder(want)
			if got := d.Uint(); got != tt.v || d.Err() != nil || d.Remaining() != 0 {
				t.Errorf("Uint = %#x, %v, %d left; want %#x", got, d.Err(), d.Remaining(), tt.v)
			}
		})
	}
}

func TestUintDecode(t *testing.T) {
	tests := []struct {
		hex  string
		want uint64
		err  error
	}{
		{"fd0500", 5, nil}, // non-minimal forms are accepted, as in JS
		{"fe05000000", 5, nil},
		{"ff0500000000000000", 5, nil},
		{"ff0000000000002000", 0, ErrUnsafeInteger}, // 2^53
		{"ffffffffffffffffff", 0, ErrUnsafeInteger},
		{"", 0, ErrOutOfBounds},
		{"fd01", 0, ErrOutOfBounds},
		{"fe010203", 0, ErrOutOfBounds},
		{"ff01020304050607", 0, ErrOutOfBounds},
	}
	for _, tt := range tests {
		got, err := Decode(Uint, unhex(t, tt.hex))
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Decode(Uint, %s) = %d, %v; want %d, %v", tt.hex, got, err, tt.want, tt.err)
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		v   int64
		hex string
	}{
		{0, "00"}, {-1, "01"}, {1, "02"}, {-2, "03"},
		{126, "fc"}, {-127, "fd fd00"},
		{MaxSafeInt, "ff feffffffffff1f00"},
		{MinSafeInt, "ff ffffffffffff1f00"},
	}
	for _, tt := range tests {
		want := unhex(t, tt.hex)
		if got := AppendInt(nil, tt.v); !bytes.Equal(got, want) || IntLen(tt.v) != len(want) {
			t.Errorf("AppendInt(%d) = %x (len %d), want %x", tt.v, got, IntLen(tt.v), want)
		}
		if got, err := Decode(Int, want); got != tt.v || err != nil {
			t.Errorf("Int(%x) = %d, %v; want %d", want, got, err, tt.v)
		}
	}
}

func TestFixedWidthInts(t *testing.T) {
	b := AppendUint24(nil, 0x123456)
	b = AppendUint40(b, 0x0102030405)
	b = AppendUint48(b, 1<<47)
	b = AppendUint32BE(b, 0x01020304)
	b = AppendInt8(b, -128)
	b = AppendInt24(b, -(1 << 23))
	b = AppendFloat32(b, 1.5)
	b = AppendFloat64(b, -0.25)
	b = AppendBool(b, true)
	d := NewDecoder(b)
	if got := d.Uint24(); got != 0x123456 {
		t.Errorf("Uint24 = %#x", got)
	}
	if got := d.Uint40(); got != 0x0102030405 {
		t.Errorf("Uint40 = %#x", got)
	}
	if got := d.Uint48(); got != 1<<47 {
		t.Errorf("Uint48 = %#x", got)
	}
	if got := d.Uint32BE(); got != 0x01020304 {
		t.Errorf("Uint32BE = %#x", got)
	}
	if got := d.Int8(); got != -128 {
		t.Errorf("Int8 = %d", got)
	}
	if got := d.Int24(); got != -(1 << 23) {
		t.Errorf("Int24 = %d", got)
	}
	if got := d.Float32(); got != 1.5 {
		t.Errorf("Float32 = %v", got)
	}
	if got := d.Float64(); got != -0.25 {
		t.Errorf("Float64 = %v", got)
	}
	if got := d.Bool(); !got {
		t.Errorf("Bool = %v", got)
	}
	if d.Err() != nil || d.Remaining() != 0 {
		t.Errorf("err %v, %d bytes left", d.Err(), d.Remaining())
	}
	if got, err := Decode(Float64, AppendFloat64(nil, math.Inf(-1))); !math.IsInf(got, -1) || err != nil {
		t.Errorf("Float64(-Inf) = %v, %v", got, err)
	}
}

func TestBool(t *testing.T) {
	for _, tt := range []struct {
		b    byte
		want bool
	}{{0, false}, {1, true}, {2, false}, {0xff, false}} {
		if got, _ := Decode(Bool, []byte{tt.b}); got != tt.want {
			t.Errorf("Bool(%#x) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

func TestBuffer(t *testing.T) {
	for _, n := range []int{0, 1, 0xfc, 0xfd, 0xffff, 0x10000} {
		t.Run(fmt.Sprintf("len=%d", n), func(t *testing.T) {
			p := bytes.Repeat([]byte{0xab}, n)
			b := AppendBuffer(nil, p)
			if len(b) != BufferLen(n) {
				t.Errorf("encoded %d bytes, BufferLen %d", len(b), BufferLen(n))
			}
			got, err := Decode(Buffer, b)
			if err != nil || !bytes.Equal(got, p) || got == nil {
				t.Errorf("Buffer = %d bytes (nil %v), %v", len(got), got == nil, err)
			}
			if _, err := Decode(Buffer, b[:len(b)-1]); n > 0 && !errors.Is(err, ErrOutOfBounds) {
				t.Errorf("truncated: err = %v, want ErrOutOfBounds", err)
			}
		})
	}
}

func TestOptionalBuffer(t *testing.T) {
	if got := Encode(OptionalBuffer, nil); !bytes.Equal(got, []byte{0}) {
		t.Errorf("Encode(nil) = %x, want 00", got)
	}
	if got, err := Decode(OptionalBuffer, []byte{0}); got != nil || err != nil {
		t.Errorf("Decode(00) = %x, %v; want nil", got, err)
	}
	if got, err := Decode(OptionalBuffer, []byte{1, 7}); !bytes.Equal(got, []byte{7}) || err != nil {
		t.Errorf("Decode(0107) = %x, %v", got, err)
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"ascii", "hello", "hello"},
		{"two-byte", "hé", "hé"},
		{"four-byte", "😀", "😀"},
		{"nul", "a\x00b", "a\x00b"},
		{"lone continuation", "a\x80b", "a\uFFFDb"},
		{"truncated sequence", "\xe2\x82a", "\uFFFDa"},
		{"surrogate", "\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"overlong", "\xc0\xaf", "\uFFFD\uFFFD"},
		{"above U+10FFFF", "\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"truncated four-byte", "\xf0\x90\x8d", "\uFFFD"},
		{"long", strings.Repeat("é", 200), strings.Repeat("é", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendString(nil, tt.in)
			if len(b) != StringLen(tt.in) {
				t.Errorf("wrote %d bytes, StringLen %d", len(b), StringLen(tt.in))
			}
			if want := AppendBuffer(nil, []byte(tt.want)); !bytes.Equal(b, want) {
				t.Errorf("AppendString = %x, want %x", b, want)
			}
			// Decoding the raw input replaces invalid bytes the same way.
			got, err := Decode(String, AppendBuffer(nil, []byte(tt.in)))
			if got != tt.want || err != nil {
				t.Errorf("String = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestArray(t *testing.T) {
	v := []uint64{0, 0xfd, 1 << 32}
	b := Encode(Array(Uint), v)
	if want := unhex(t, "03 00 fdfd00 ff0000000001000000"); !bytes.Equal(b, want) {
		t.Errorf("Encode = %x, want %x", b, want)
	}
	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"count at limit, truncated", AppendUint(nil, MaxArrayLength), ErrOutOfBounds},
		{"count over limit", AppendUint(nil, MaxArrayLength+1), ErrArrayTooLarge},
		{"huge count", AppendUint(nil, MaxSafeInteger), ErrArrayTooLarge},
	}
	for _, tt := range tests {
		if _, err := Decode(Array(Uint), tt.in); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
	// Zero-size elements: the count is the only bound.
	got, err := Decode(Array(None), AppendUint(nil, MaxArrayLength))
	if len(got) != MaxArrayLength || err != nil {
		t.Errorf("Array(None) at the limit: %d elements, %v", len(got), err)
	}
}

func TestArrayAllocationBounded(t *testing.T) {
	// A count at the limit with no elements behind it must not make the
	// decoder allocate 32 MiB of Fixed32 elements.
	in := AppendUint(nil, MaxArrayLength)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(Array(Fixed32), in)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrOutOfBounds) {
		t.Errorf("err = %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4096 {
		t.Errorf("decoding a truncated array allocated %d bytes", n)
	}
}

func TestFrame(t *testing.T) {
	c := Frame(Array(Uint))
	b := Encode(c, []uint64{1, 300})
	if want := unhex(t, "05 02 01 fd2c01"); !bytes.Equal(b, want) {
		t.Errorf("Encode = %x, want %x", b, want)
	}
	// Bytes left inside the frame are skipped; the next field follows it.
	d := NewDecoder(unhex(t, "03 0161 ff 07"))
	if got := Frame[string](String).Decode(d); got != "a" {
		t.Errorf("framed string = %q", got)
	}
	if got := d.Uint(); got != 7 || d.Err() != nil {
		t.Errorf("after frame: %d, %v", got, d.Err())
	}
	// A value may not run past its frame.
	if _, err := Decode(Frame[string](String), unhex(t, "02 0261")); !errors.Is(err, ErrOutOfBounds) {
		t.Errorf("overrun: err = %v", err)
	}
}

func TestDecoderSticky(t *testing.T) {
	d := NewDecoder([]byte{0xfd, 1})
	if d.Uint() != 0 || !errors.Is(d.Err(), ErrOutOfBounds) {
		t.Fatalf("err = %v", d.Err())
	}
	if d.Buffer() != nil || d.String() != "" || d.Bool() || d.IPv4().IsValid() {
		t.Error("reads after an error return zero values")
	}
}

func TestFixedPanicsOnWrongLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Fixed(4).Append with 3 bytes did not panic")
		}
	}()
	Fixed(4).Append(nil, []byte{1, 2, 3})
}

// TestTruncated checks that every strict prefix of every test encoding is
// refused (codecs that run to the end of the input excepted).
func TestTruncated(t *testing.T) {
	for name, c := range vcodecs {
		if strings.HasPrefix(name, "raw") {
			continue
		}
		for _, b := range c.cases {
			for n := range len(b) {
				if _, _, err := c.decode(b[:n]); err == nil {
					t.Errorf("%s: prefix %x of %x decoded", name, b[:n], b)
				}
			}
		}
	}
}

func TestLen(t *testing.T) {
	for name, c := range vcodecs {
		for _, e := range c.badLen {
			t.Errorf("%s: %s", name, e)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for name, c := range vcodecs {
		for _, b := range c.cases {
			_, re, err := c.decode(b)
			if err != nil {
				t.Errorf("%s %x: %v", name, b, err)
				continue
			}
			if _, re2, err := c.decode(re); err != nil || !bytes.Equal(re, re2) {
				t.Errorf("%s %x: re-encoding %x is not stable: %x, %v", name, b, re, re2, err)
			}
		}
	}
}

func TestLexint(t *testing.T) {
	tests := []struct {
		v   uint64
		hex string
	}{
		{250, "fa"},
		{251, "fb00"},
		{1<<32 - 1, "fe ffffff04"},
		// JS writes 2^32 ... 2^32+250 in a form it cannot read; Go uses
		// the 5-byte form, which JS reads.
		{1 << 32, "fe ffffff05"},
		{1<<32 + 250, "fe ffffffff"},
		{1<<32 + 251, "ff 00 080000000000"},
	}
	for _, tt := range tests {
		want := unhex(t, tt.hex)
		if got := AppendLexint(nil, tt.v); !bytes.Equal(got, want) || LexintLen(tt.v) != len(want) {
			t.Errorf("AppendLexint(%d) = %x (len %d), want %x", tt.v, got, LexintLen(tt.v), want)
		}
		if got, err := Decode(Lexint, want); got != tt.v || err != nil {
			t.Errorf("Lexint(%x) = %d, %v", want, got, err)
		}
	}
	// Encodings sort as their values.
	prev := AppendLexint(nil, 0)
	for v := uint64(1); v < MaxSafeInteger; v = v*3 + 1 {
		cur := AppendLexint(nil, v)
		if bytes.Compare(prev, cur) >= 0 {
			t.Errorf("encoding of %d (%x) does not sort after the previous (%x)", v, cur, prev)
		}
		prev = cur
	}
}
