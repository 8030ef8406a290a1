package cenc

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopear/gopear/internal/jsref"
)

// The interop tests run compact-encoding 3.5.2 through
// interop/cenc/vectors.js. Values cross in the JSON form that script
// documents (repr); the Go side of that form is built by the repr functions
// below and compared after a JSON round trip.

const vectorsScript = "cenc/vectors.js"

// vcodec is one JS codec as the tests see it from Go: decode bytes into a
// comparable form and the re-encoding of the decoded value, and Go's own
// test cases, already encoded.
type vcodec struct {
	decode func([]byte) (repr any, reencoded []byte, err error)
	cases  [][]byte
	// badLen lists the cases whose Len differs from their encoded size.
	badLen []string
	// check is the fuzz property of the codec (see roundTrip).
	check func([]byte) error
}

func vc[T any](c Codec[T], repr func(T) any, cases ...T) vcodec {
	v := vcodec{decode: func(b []byte) (any, []byte, error) {
		x, err := Decode(c, b)
		if err != nil {
			return nil, nil, err
		}
		return repr(x), Encode(c, x), nil
	}, check: func(b []byte) error { return roundTrip(c, b) }}
	for _, x := range cases {
		b := c.Append(nil, x)
		if n := c.Len(x); n != len(b) {
			v.badLen = append(v.badLen, fmt.Sprintf("%#v: Len %d, Append wrote %d bytes", x, n, len(b)))
		}
		v.cases = append(v.cases, b)
	}
	return v
}

func num[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](v T) any { return v }

func bigStr[T int64 | uint64](v T) any { return fmt.Sprint(v) }

func floatRepr[T float32 | float64](v T) any {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0 && math.Signbit(f):
		return "-0"
	}
	return f
}

func hexRepr(p []byte) any {
	if p == nil {
		return nil
	}
	return hex.EncodeToString(p)
}

func sliceRepr[T any](f func(T) any) func([]T) any {
	return func(v []T) any {
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = f(e)
		}
		return out
	}
}

func same[T any](v T) any { return v }

func bigRepr(v *big.Int) any { return v.String() }

func dateRepr(t time.Time) any { return t.UnixMilli() }

func jsonRepr(v json.RawMessage) any { return v }

// hostRepr formats a as JS's ipv4 and ipv6 decoders do: dotted decimal, or
// eight unabbreviated lowercase hex groups.
func hostRepr(a netip.Addr) any {
	if a.Is4() {
		return a.String()
	}
	b := a.As16()
	g := make([]string, 8)
	for i := range g {
		g[i] = strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16)
	}
	return strings.Join(g, ":")
}

func addrRepr(ap netip.AddrPort) any {
	return map[string]any{"host": hostRepr(ap.Addr()), "port": ap.Port()}
}

func recordRepr[V any](f func(V) any) func([]Entry[V]) any {
	return func(v []Entry[V]) any {
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = []any{e.Key, f(e.Value)}
		}
		return out
	}
}

// anyRepr is the [type, value] form of vectors.js.
func anyRepr(v any) any {
	switch v := v.(type) {
	case nil:
		return []any{"null", nil}
	case bool:
		return []any{"bool", v}
	case string:
		return []any{"string", v}
	case []byte:
		return []any{"buffer", hex.EncodeToString(v)}
	case uint64:
		return []any{"uint", v}
	case int64:
		// JS reads an int of value >= 0 as a number it would write as uint.
		if v >= 0 {
			return []any{"uint", v}
		}
		return []any{"int", v}
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= MaxSafeInteger {
			return anyRepr(int64(v))
		}
		return []any{"float", floatRepr(v)}
	case []any:
		return []any{"array", sliceRepr(anyRepr)(v)}
	case []Entry[any]:
		return []any{"object", recordRepr(anyRepr)(v)}
	case time.Time:
		return []any{"date", v.UnixMilli()}
	}
	panic(fmt.Sprintf("anyRepr: %T", v))
}

func fill(n int, f func(int) byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = f(i)
	}
	return p
}

func seq(n int) []byte { return fill(n, func(i int) byte { return byte(i) }) }

var goUints = []uint64{0, 1, 0xfc, 0xfd, 0xfe, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 1 << 32, 1<<53 - 2, MaxSafeInteger}

func uintsBelow(bits uint) []uint64 {
	var out []uint64
	for _, v := range goUints {
		if v < 1<<bits {
			out = append(out, v)
		}
	}
	return out
}

func conv[T, U int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](v []U) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

var goInts = []int64{0, 1, -1, 63, -64, 64, -65, 127, -128, 1<<31 - 1, -1 << 31, MaxSafeInt, MinSafeInt}

func intsWithin(bits uint) []int64 {
	var out []int64
	for _, v := range goInts {
		if v >= -1<<(bits-1) && v < 1<<(bits-1) {
			out = append(out, v)
		}
	}
	return out
}

func addr(s string) netip.Addr         { return netip.MustParseAddr(s) }
func addrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
func bigInt(s string) *big.Int {
	v, _ := new(big.Int).SetString(s, 0)
	return v
}

var goStrings = []string{"", "a", "hé", "€😀", "a\x00b", "\xff", "\xed\xa0\x80", "a\xe2\x82", strings.Repeat("x", 300)}
var goFloats = []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN()}

// vcodecs has every codec that vectors.js knows, by its name there.
var vcodecs = map[string]vcodec{
	"uint":           vc(Uint, num, goUints...),
	"uint8":          vc(Uint8, num, conv[uint8](uintsBelow(8))...),
	"uint16":         vc(Uint16, num, conv[uint16](uintsBelow(16))...),
	"port":           vc(Port, num, 0, 49737, 65535),
	"uint24":         vc(Uint24, num, conv[uint32](uintsBelow(24))...),
	"uint32":         vc(Uint32, num, conv[uint32](uintsBelow(32))...),
	"uint32be":       vc(Uint32BE, num, conv[uint32](uintsBelow(32))...),
	"uint40":         vc(Uint40, num, uintsBelow(40)...),
	"uint48":         vc(Uint48, num, uintsBelow(48)...),
	"uint56":         vc(Uint56, num, goUints...),
	"uint64":         vc(Uint64, num, goUints...),
	"uint64be":       vc(Uint64BE, num, goUints...),
	"int":            vc(Int, num, goInts...),
	"int8":           vc(Int8, num, conv[int8](intsWithin(8))...),
	"int16":          vc(Int16, num, conv[int16](intsWithin(16))...),
	"int24":          vc(Int24, num, conv[int32](intsWithin(24))...),
	"int32":          vc(Int32, num, conv[int32](intsWithin(32))...),
	"int40":          vc(Int40, num, intsWithin(40)...),
	"int48":          vc(Int48, num, intsWithin(48)...),
	"int56":          vc(Int56, num, goInts...),
	"int64":          vc(Int64, num, goInts...),
	"biguint64":      vc(BigUint64, bigStr, 0, math.MaxUint64),
	"bigint64":       vc(BigInt64, bigStr, 0, -1, math.MaxInt64, math.MinInt64),
	"biguint":        vc(BigUint, bigRepr, big.NewInt(0), bigInt("0x10000000000000000"), bigInt("0xffffffffffffffffffffffffffffffffff")),
	"bigint":         vc(BigInt, bigRepr, big.NewInt(-1), bigInt("-0x10000000000000000"), bigInt("123456789012345678901234567890")),
	"lexint":         vc(Lexint, num, 0, 250, 251, 256, 65786, 1<<24, 1<<32+251, 1<<44+1, 1<<48-2, 1<<48-1, MaxSafeInteger-251),
	"float32":        vc(Float32, floatRepr, 0, float32(math.Copysign(0, -1)), 1.1, math.MaxFloat32, float32(math.Inf(-1))),
	"float64":        vc(Float64, floatRepr, goFloats...),
	"bool":           vc(Bool, same, false, true),
	"none":           vc(None, func(struct{}) any { return nil }, struct{}{}),
	"buffer":         vc(Buffer, hexRepr, nil, []byte{}, seq(0xfc), seq(0xfd), seq(0x10000)),
	"optionalBuffer": vc(OptionalBuffer, hexRepr, nil, []byte{1}, seq(300)),
	"binary":         vc(Binary, hexRepr, []byte("text")),
	"arraybuffer":    vc(ArrayBuffer, hexRepr, []byte{}, []byte{1, 2, 3}),
	"uint8array":     vc(Uint8Array, hexRepr, []byte{1, 255}),
	"uint16array":    vc(Uint16Array, sliceRepr(num[uint16]), nil, []uint16{1, 0xffff}),
	"uint32array":    vc(Uint32Array, sliceRepr(num[uint32]), []uint32{1, 0x80000000}, make([]uint32, 300)),
	"int8array":      vc(Int8Array, sliceRepr(num[int8]), []int8{0, -1, 127, -128}),
	"int16array":     vc(Int16Array, sliceRepr(num[int16]), []int16{0, -1, 32767, -32768}),
	"int32array":     vc(Int32Array, sliceRepr(num[int32]), []int32{0, -1, math.MaxInt32, math.MinInt32}),
	"biguint64array": vc(BigUint64Array, sliceRepr(bigStr[uint64]), []uint64{0, math.MaxUint64}),
	"bigint64array":  vc(BigInt64Array, sliceRepr(bigStr[int64]), []int64{0, -1, math.MinInt64}),
	"float32array":   vc(Float32Array, sliceRepr(floatRepr[float32]), []float32{0, 1.5, float32(math.Inf(1))}),
	"float64array":   vc(Float64Array, sliceRepr(floatRepr[float64]), goFloats),
	"bitarray":       vc(BitArray, sliceRepr(same[bool]), nil, []bool{true}, []bool{true, false, true, true, false, false, false, false, true}),
	"string":         vc(String, same, goStrings...),
	"ascii":          vc(ASCII, same, "", "abc", "é€😀", "\x7f\u0080\u00ff", "\xff"),
	"hex":            vc(Hex, same, "", "00", "ABcd", "abc", "zz", "a b", "é0"),
	"base64":         vc(Base64, same, "", "AQID", "AQI=", "AQI", "-_8", "A Q==", "QQ=Q", "=", "==", "a=b="),
	"utf16le":        vc(UTF16LE, same, "", "a", "hé", "😀", "\xff"),
	"utf8Fixed4":     vc(UTF8.Fixed(4), same, "abcd", "é€", "ab", "abcde"),
	"hexFixed2":      vc(Hex.Fixed(2), same, "abcd", "ab", "abcdef"),
	"asciiFixed3":    vc(ASCII.Fixed(3), same, "abc", "😀😀"),
	"base64Fixed3":   vc(Base64.Fixed(3), same, "QUJD", "QQ"),
	"utf16leFixed4":  vc(UTF16LE.Fixed(4), same, "ab", "😀", "abc"),
	"fixed3":         vc(Fixed(3), hexRepr, []byte{1, 2, 3}),
	"fixed8":         vc(Fixed8, hexRepr, seq(8)),
	"fixed16":        vc(Fixed16, hexRepr, seq(16)),
	"fixed24":        vc(Fixed24, hexRepr, seq(24)),
	"fixed32":        vc(Fixed32, func(v [32]byte) any { return hexRepr(v[:]) }, [32]byte{1, 2, 3}),
	"fixed64":        vc(Fixed64, func(v [64]byte) any { return hexRepr(v[:]) }, [64]byte{63: 0xff}),
	"raw":            vc(Raw, hexRepr, []byte{}, []byte{1, 2, 0xff}),
	"rawString":      vc(String.Raw(), same, "", "hé😀", "\xff"),
	"rawHex":         vc(Hex.Raw(), same, "", "abcd"),
	"rawUint32Array": vc(Uint32Array.Raw(), sliceRepr(num[uint32]), []uint32{1, 2}),
	"rawArrayUint":   vc(RawArray(Uint), sliceRepr(num[uint64]), nil, goUints),
	"rawJSON":        vc(JSON.Raw(), jsonRepr, json.RawMessage(`{"a":1}`)),
	"arrayUint":      vc(Array(Uint), sliceRepr(num[uint64]), nil, goUints),
	"arrayString":    vc(Array[string](String), sliceRepr(same[string]), []string{"a", "", "hé"}),
	"arrayArrayUint": vc(Array(Array(Uint)), sliceRepr(sliceRepr(num[uint64])), [][]uint64{{}, {1}, {2, 3}}),
	"arrayNone":      vc(Array(None), sliceRepr(func(struct{}) any { return nil }), make([]struct{}, 5)),
	"frameString":    vc(Frame[string](String), same, "", "hello"),
	"frameArrayUint": vc(Frame(Array(Uint)), sliceRepr(num[uint64]), goUints),
	"date":           vc(Date, dateRepr, time.UnixMilli(0), time.UnixMilli(1700000000123), time.UnixMilli(-1)),
	"json":           vc(JSON, jsonRepr, json.RawMessage(`null`), json.RawMessage(`{"b":[1,2.5,"é"],"a":{}}`)),
	"ndjson":         vc(NDJSON, jsonRepr, json.RawMessage(`[true]`)),
	"any": vc[any](Any, anyRepr, nil, true, "s", []byte{1}, uint64(300), int64(-5), int64(7), 2.5, 3.0, math.Inf(1),
		[]any{nil, []any{int8(-1)}}, []Entry[any]{{"b", 1}, {"a", []Entry[any]{}}}, map[string]any{"z": "y", "a": false},
		time.UnixMilli(1700000000123)),
	"stringRecord": vc(StringRecord, recordRepr(same[string]), nil, []Entry[string]{{"b", "x"}, {"a", "y"}}),
	"recordUint":   vc(Record(String, Uint), recordRepr(num[uint64]), []Entry[uint64]{{"z", 1}, {"y", 300}}),
	"ipv4":         vc(IPv4, hostRepr, addr("1.2.3.4"), addr("::ffff:10.0.0.1"), netip.Addr{}),
	"ipv6":         vc(IPv6, hostRepr, addr("::1"), addr("2001:db8::8a2e:370:7334"), addr("1.2.3.4"), netip.Addr{}),
	"ip":           vc(IP, hostRepr, addr("1.2.3.4"), addr("fe80::1"), addr("::ffff:1.2.3.4")),
	"ipv4Address":  vc(IPv4Address, addrRepr, addrPort("1.2.3.4:49737"), netip.AddrPort{}),
	"ipv6Address":  vc(IPv6Address, addrRepr, addrPort("[::1]:443")),
	"ipAddress":    vc(IPAddress, addrRepr, addrPort("127.0.0.1:8080"), addrPort("[2001:db8::1]:1")),
}

// normalize passes v through JSON, so that Go and JS forms compare as the
// same JSON values.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

type vector struct {
	Codec string          `json:"codec"`
	Value json.RawMessage `json:"value"`
	Hex   string          `json:"hex"`
	Rehex string          `json:"rehex"` // JS's encoding of the value it read
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonValue(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// lossy reports whether Go may re-encode the value decoded from a JS
// vector differently: a lone UTF-16 surrogate, which a Go string cannot
// hold, is read as U+FFFD.
func lossy(codec string, value any) bool {
	s, ok := value.(string)
	return ok && strings.HasPrefix(codec, "utf16le") && strings.ContainsRune(s, '\uFFFD')
}

// TestInteropJSVectors decodes what compact-encoding writes for every codec
// and edge case, compares the value, and re-encodes it as JS re-encodes it
// (to the same bytes, but for the codecs that lose information).
func TestInteropJSVectors(t *testing.T) {
	var vectors []vector
	jsref.JSON(t, nil, &vectors, vectorsScript)
	seen := map[string]bool{}
	for i, v := range vectors {
		c, ok := vcodecs[v.Codec]
		if !ok {
			t.Errorf("vectors.js codec %q has no Go counterpart", v.Codec)
			continue
		}
		seen[v.Codec] = true
		b := mustHex(t, v.Hex)
		got, re, err := c.decode(b)
		if err != nil {
			t.Errorf("#%d %s %s: decode: %v", i, v.Codec, v.Hex, err)
			continue
		}
		want := jsonValue(t, v.Value)
		if g := normalize(t, got); !reflect.DeepEqual(g, want) {
			t.Errorf("#%d %s %s: decoded %#v, JS has %#v", i, v.Codec, v.Hex, g, want)
		}
		if hex.EncodeToString(re) != v.Rehex && !lossy(v.Codec, want) {
			t.Errorf("#%d %s %s: re-encoded %x, JS %s", i, v.Codec, v.Hex, re, v.Rehex)
		}
	}
	for name := range vcodecs {
		if !seen[name] {
			t.Errorf("no JS vectors for codec %q", name)
		}
	}
}

type checkItem struct {
	Codec string `json:"codec"`
	Hex   string `json:"hex"`
}

type checkResult struct {
	OK    bool            `json:"ok"`
	Error string          `json:"error"`
	Value json.RawMessage `json:"value"`
	Hex   string          `json:"hex"`
	// EncodeError is set when JS read the input but cannot encode the
	// value it read.
	EncodeError string `json:"encodeError"`
}

// jsCheck has the reference decode and re-encode each item.
func jsCheck(t *testing.T, items []checkItem) []checkResult {
	t.Helper()
	var res []checkResult
	jsref.JSON(t, items, &res, vectorsScript, "check")
	if len(res) != len(items) {
		t.Fatalf("vectors.js check returned %d results for %d items", len(res), len(items))
	}
	return res
}

// TestInteropGoEncodes has compact-encoding read what Go writes: it must
// read the value Go reads, and write the same bytes back.
func TestInteropGoEncodes(t *testing.T) {
	var items []checkItem
	for name, c := range vcodecs {
		for _, b := range c.cases {
			items = append(items, checkItem{name, hex.EncodeToString(b)})
		}
	}
	for i, r := range jsCheck(t, items) {
		it := items[i]
		if !r.OK {
			t.Errorf("%s %s: JS cannot decode Go's encoding: %s", it.Codec, it.Hex, r.Error)
			continue
		}
		got, re, err := vcodecs[it.Codec].decode(mustHex(t, it.Hex))
		if err != nil {
			t.Errorf("%s %s: Go cannot decode its own encoding: %v", it.Codec, it.Hex, err)
			continue
		}
		want := jsonValue(t, r.Value)
		if g := normalize(t, got); !reflect.DeepEqual(g, want) {
			t.Errorf("%s %s: Go reads %#v, JS reads %#v", it.Codec, it.Hex, g, want)
		}
		if hex.EncodeToString(re) != r.Hex {
			t.Errorf("%s %s: Go re-encodes %x, JS %s", it.Codec, it.Hex, re, r.Hex)
		}
	}
}

// deviations lists inputs that Go reads differently from JS on purpose, as
// the package documentation describes; no JS encoder writes them.
var deviations = map[string]string{
	"ip 07000000000000000000000000000000000000":          "unknown family: JS reads IPv6, Go refuses",
	"ipAddress 0700000000000000000000000000000000000000": "unknown family: JS reads IPv6, Go refuses",
	"lexint ff000000000000000001":                        "JS reads a fraction, Go refuses",
	"lexint ff14ffffffffffff":                            "JS reads an unsafe integer, Go refuses",
	"lexint ff15ffffffffffff":                            "JS reads an unsafe integer, Go refuses",
	"stringRecord 020161016201610163":                    "duplicate key: JS keeps the last, Go keeps both",
}

// TestInteropRejects feeds both sides malformed and edge-case input: Go
// must refuse what JS refuses, accept what JS accepts (but for the inputs
// in stricter), and read the same value where both accept.
func TestInteropRejects(t *testing.T) {
	items := []checkItem{
		{"uint", ""}, {"uint", "fd01"}, {"uint", "fe010203"}, {"uint", "ff0100000000000000"[:16]},
		{"uint", "ffffffffffffff1f00"}, {"uint", "ff0000000000002000"}, {"uint", "ffffffffffffffffff"},
		{"uint", "fd0500"}, {"uint", "fe05000000"}, {"uint", "ff0500000000000000"},
		{"uint56", "00000000000020"}, {"uint56", "ffffffffffff1f"}, {"uint64be", "0020000000000000"},
		{"int", "ffffffffffffff1f00"}, {"int", "fffeffffffffff1f00"}, {"int64", "0000000000002000"},
		{"biguint64", "ffffffffffffffff"}, {"biguint64", "ffffffffffffff"},
		{"buffer", "05010203"}, {"buffer", "fdffff"}, {"optionalBuffer", "00"}, {"optionalBuffer", "0100"},
		{"string", "0161"}, {"string", "03e28261"}, {"string", "03eda080"}, {"string", "02c0af"}, {"string", "04f4908080"}, {"string", "01ff"},
		{"utf16le", "0300d841"}, {"utf16le", "0100"}, {"ascii", "03e9ff41"}, {"base64", "02fbff"},
		{"bool", "02"}, {"bool", "ff"}, {"bool", ""},
		{"arrayUint", "fe00001000" + strings.Repeat("00", 16)}, {"arrayUint", "fe01001000"}, {"arrayUint", "0301"},
		{"arrayNone", "fe00001000"}, {"arrayNone", "fe01001000"},
		{"uint32array", "fe01001000"}, {"uint32array", "020100000002"}, {"bitarray", "0901"}, {"bitarray", "03ff"},
		{"biguint", "0201000000000000000000000000000000"}, {"biguint", "020100000000000000"}, {"bigint", "0103000000000000000000"},
		{"frameString", "0301610000"}, {"frameString", "020261"}, {"frameString", "0a0161"}, {"frameArrayUint", "0103"},
		{"json", "027b7d"}, {"json", "027b"}, {"json", "00"}, {"json", "03312032"}, {"ndjson", "02310a"},
		{"any", "0a"}, {"any", "07ff"}, {"any", "0702040105"}, {"any", "0801016100"}, {"any", "06000000000000f87f"},
		{"ip", "07000000000000000000000000000000000000"}, {"ip", "0401020304"}, {"ip", "0401"}, {"ipAddress", "0700000000000000000000000000000000000000"},
		{"ipv4Address", "0102030449"}, {"date", "ffffffffffffff1f00"},
		{"lexint", "fb"}, {"lexint", "ff000000000000000001"}, {"lexint", "ff14ffffffffffff"}, {"lexint", "ff0b0000000000"}, {"lexint", "ff0b000000000001"},
		{"lexint", "ffff0ffffff05000"}, {"lexint", "ff15ffffffffffff"}, {"lexint", "ff00080000000000"},
		{"stringRecord", "05"}, {"stringRecord", "020161016201610163"},
		{"rawArrayUint", "fd01"}, {"rawUint32Array", "0100000002"}, {"fixed32", "00"}, {"utf8Fixed4", "616263"},
	}
	for i, r := range jsCheck(t, items) {
		it := items[i]
		key := it.Codec + " " + it.Hex
		got, re, err := vcodecs[it.Codec].decode(mustHex(t, it.Hex))
		if why, ok := deviations[key]; ok {
			if !r.OK {
				t.Errorf("%s: listed as a deviation (%s), but JS refuses it: %s", key, why, r.Error)
			}
			continue
		}
		switch {
		case !r.OK && err == nil:
			t.Errorf("%s: JS refuses (%s), Go reads %#v", key, r.Error, got)
		case r.OK && err != nil:
			t.Errorf("%s: JS reads %s, Go refuses: %v", key, r.Value, err)
		case r.OK && err == nil:
			if g, w := normalize(t, got), jsonValue(t, r.Value); !reflect.DeepEqual(g, w) {
				t.Errorf("%s: Go reads %#v, JS reads %#v", key, g, w)
			}
			if reencodable(it.Codec, r) && hex.EncodeToString(re) != r.Hex && !lossy(it.Codec, got) {
				t.Errorf("%s: Go re-encodes %x, JS %s", key, re, r.Hex)
			}
		}
	}
}

// TestInteropRandom is a differential test: short random inputs, biased
// towards varint markers and small lengths, for every codec. Go must refuse
// exactly what JS refuses and read the same values, but for the documented
// deviations that tolerated reports.
func TestInteropRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	special := []byte{0, 1, 2, 3, 4, 6, 0x61, 0x7f, 0x80, 0xc3, 0xfc, 0xfd, 0xfe, 0xff}
	var items []checkItem
	for _, name := range slices.Sorted(maps.Keys(vcodecs)) {
		for range 60 {
			p := make([]byte, rng.IntN(24))
			for i := range p {
				if rng.IntN(2) == 0 {
					p[i] = special[rng.IntN(len(special))]
				} else {
					p[i] = byte(rng.Uint32())
				}
			}
			items = append(items, checkItem{name, hex.EncodeToString(p)})
		}
	}
	for i, r := range jsCheck(t, items) {
		it := items[i]
		got, re, err := vcodecs[it.Codec].decode(mustHex(t, it.Hex))
		key := it.Codec + " " + it.Hex
		switch {
		case !r.OK && err == nil:
			t.Errorf("%s: JS refuses (%s), Go reads %#v", key, r.Error, got)
		case r.OK && err != nil && !tolerated(it, err):
			t.Errorf("%s: JS reads %s, Go refuses: %v", key, r.Value, err)
		case r.OK && err == nil:
			if g, w := normalize(t, got), jsonValue(t, r.Value); !reflect.DeepEqual(g, w) {
				t.Errorf("%s: Go reads %#v, JS reads %#v", key, g, w)
			}
			if reencodable(it.Codec, r) && hex.EncodeToString(re) != r.Hex && !lossy(it.Codec, got) {
				t.Errorf("%s: Go re-encodes %x, JS %s", key, re, r.Hex)
			}
		}
	}
}

// tolerated reports whether Go refusing input that JS reads is one of the
// documented deviations.
func tolerated(it checkItem, err error) bool {
	switch it.Codec {
	case "ip", "ipAddress":
		return errors.Is(err, ErrInvalid) && !strings.HasPrefix(it.Hex, "04") && !strings.HasPrefix(it.Hex, "06")
	case "lexint":
		return errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnsafeInteger)
	}
	return false
}

// comparable reports whether Go's re-encoding of a decoded value can be
// compared with JS's: not when JS could not encode the value it read, not
// for NaN (JS writes one NaN, Go keeps the payload), and not for fixed-size
// strings that do not fit (JS leaves bytes unwritten).
func reencodable(codec string, r checkResult) bool {
	return r.EncodeError == "" && !strings.Contains(string(r.Value), `"NaN"`) && !strings.Contains(codec, "Fixed")
}
