package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/internal/jsref"
)

// jsVector is one vector printed by interop/hypercore/wire_vectors.js.
type jsVector struct {
	Type      string `json:"type"`
	Hex       string `json:"hex"`
	Raw       bool   `json:"raw"` // hand-made input; OK is JS's verdict
	OK        bool   `json:"ok"`
	Value     any    `json:"value"`
	Reencoded string `json:"reencoded"`
}

func decodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJSVectors decodes every encoding the JS reference makes, compares the
// fields with what JS decoded, and re-encodes byte for byte.
func TestJSVectors(t *testing.T) {
	var vectors []jsVector
	jsref.JSON(t, nil, &vectors, "hypercore/wire_vectors.js")
	if len(vectors) < 200 {
		t.Fatalf("got %d vectors from JS, want at least 200", len(vectors))
	}
	for i, v := range vectors {
		name := fmt.Sprintf("%d-%s", i, v.Type)
		if len(v.Hex) > 40 {
			name += "-" + v.Hex[:40]
		} else {
			name += "-" + v.Hex
		}
		t.Run(name, func(t *testing.T) {
			in := decodeHex(t, v.Hex)
			m := codecs[v.Type]()
			err := Unmarshal(in, m)
			wantOK := !v.Raw || v.OK
			if (err == nil) != wantOK {
				t.Fatalf("decode error = %v, JS accepted it: %v", err, wantOK)
			}
			if err != nil {
				return
			}
			if got := describe(m); !reflect.DeepEqual(got, v.Value) {
				t.Fatalf("decoded\n got %s\nwant %s", dump(got), dump(v.Value))
			}
			out := Encode(m)
			if got := hex.EncodeToString(out); got != v.Reencoded {
				t.Fatalf("re-encoded\n got %.200s\nwant %.200s", got, v.Reencoded)
			}
			if len(out) != m.Len() {
				t.Fatalf("Len() = %d, encoding has %d bytes", m.Len(), len(out))
			}
			if !v.Raw && !bytes.Equal(out, in) {
				t.Fatalf("JS encoding did not round-trip")
			}
		})
	}
}

// goVector is a message made by Go, with the JS codec name.
type goVector struct {
	Type string `json:"type"`
	Hex  string `json:"hex"`
	msg  Codec
}

func node(i, size uint64, fill byte) hcrypto.Node {
	n := hcrypto.Node{Index: i, Size: size}
	for j := range n.Hash {
		n.Hash[j] = fill + byte(j)
	}
	return n
}

func nodes(n int, fill byte) []hcrypto.Node {
	var out []hcrypto.Node
	for i := range n {
		out = append(out, node(uint64(i)*2, uint64(i)*1000, fill+byte(i)))
	}
	return out
}

func key(fill byte) (k [32]byte) {
	for i := range k {
		k[i] = fill ^ byte(i*7)
	}
	return k
}

func sig64(fill byte) (s [64]byte) {
	for i := range s {
		s[i] = fill + byte(i)
	}
	return s
}

// edgeValues are varint thresholds and JS's largest safe integer.
var edgeValues = []uint64{0, 1, 0xfc, 0xfd, 0xffff, 0x10000, 0xffffffff, 1 << 32, cenc.MaxSafeInteger}

// goMessages returns a varied set of messages of every type, made by Go.
func goMessages() []goVector {
	var vs []goVector
	add := func(typ string, m Codec) { vs = append(vs, goVector{Type: typ, msg: m}) }
	ev := func(i int) uint64 { return edgeValues[i%len(edgeValues)] }

	add("handshake", &Handshake{Seeks: true, Capability: key(1)})
	add("handshake", &Handshake{Capability: key(2)})
	for f := range 32 {
		add("sync", &Sync{Fork: ev(f), Length: ev(f + 1), RemoteLength: ev(f + 2),
			CanUpgrade: f&1 != 0, Uploading: f&2 != 0, Downloading: f&4 != 0, HasManifest: f&8 != 0, AllowPush: f&16 != 0})
	}
	for f := range 64 {
		r := &Request{ID: ev(f), Fork: ev(f + 3), Manifest: f&16 != 0}
		if f&1 != 0 {
			r.Block = &RequestBlock{Index: ev(f + 1), Nodes: ev(f + 2)}
		}
		if f&2 != 0 {
			r.Hash = &RequestHash{Index: ev(f + 4), Nodes: 3}
		}
		if f&4 != 0 {
			r.Seek = &RequestSeek{Bytes: ev(f + 5), Padding: ev(f)}
		}
		if f&8 != 0 {
			r.Upgrade = &RequestUpgrade{Start: ev(f + 6), Length: ev(f + 7)}
		}
		if f&32 != 0 {
			r.Priority = ev(f + 1)
			if r.Priority == 0 {
				r.Priority = 2
			}
		}
		add("request", r)
	}
	for i := range edgeValues {
		add("cancel", &Cancel{Request: ev(i)})
	}
	ms := goManifests()
	for _, m := range ms {
		add("manifest", m)
	}
	for f := range 32 {
		d := &Data{Request: ev(f), Fork: ev(f + 1)}
		n := f % 4
		if f&1 != 0 {
			d.Block = &DataBlock{Index: ev(f + 2), Value: bytes.Repeat([]byte{byte(f)}, f*37), Nodes: nodes(n, 1)}
		}
		if f&2 != 0 {
			d.Hash = &DataHash{Index: ev(f + 3), Nodes: nodes(n+1, 2)}
		}
		if f&4 != 0 {
			d.Seek = &DataSeek{Bytes: ev(f + 4), Nodes: nodes(n, 3)}
		}
		if f&8 != 0 {
			u := &DataUpgrade{Start: ev(f + 5), Length: ev(f + 6), Nodes: nodes(n, 4), AdditionalNodes: nodes(f%3, 5)}
			if f%2 == 1 {
				s := sig64(9)
				u.Signature = append(s[:], 0, 1, 2, 3)
			}
			d.Upgrade = u
		}
		if f&16 != 0 {
			d.Manifest = ms[f%len(ms)]
		}
		add("data", d)
	}
	add("data", &Data{Request: 1, Block: &DataBlock{Index: 7, Value: make([]byte, 1<<16+3), Nodes: nodes(1500, 7)}})
	for _, r := range []uint64{0, 1, 2, 0xfd} {
		add("noData", &NoData{Request: r + 1, Reason: r})
	}
	for _, anyRange := range []bool{false, true} {
		add("want", &Want{Start: 1 << 21, Length: 1 << 21, Any: anyRange})
		add("unwant", &Unwant{Start: cenc.MaxSafeInteger, Length: 0xfd, Any: anyRange})
	}
	words := make([]uint32, 1<<16)
	for i := range words {
		words[i] = uint32(i) * 2654435761
	}
	add("bitfield", &Bitfield{Start: 0})
	add("bitfield", &Bitfield{Start: 64, Bitfield: []uint32{0, 1, 0x80000000, 0xffffffff}})
	add("bitfield", &Bitfield{Start: 1 << 21, Bitfield: words})
	for _, drop := range []bool{false, true} {
		for i, l := range []uint64{0, 1, 2, 0xfd, 1 << 40} {
			add("range", &Range{Drop: drop, Start: ev(i), Length: l})
		}
	}
	add("extension", &Extension{Name: "hyperbee", Message: []byte{1, 2, 3}})
	add("extension", &Extension{Message: []byte{}})
	add("extension", &Extension{Name: "ünïcode ✓", Message: bytes.Repeat([]byte{0xab}, 300)})
	add("reorgHint", &ReorgHint{From: 3, To: 0x10000, Ancestors: cenc.MaxSafeInteger})
	add("multiSignature", &MultiSignature{Proofs: []SignatureProof{{Signature: sig64(1)}}})
	add("multiSignature", &MultiSignature{Proofs: []SignatureProof{{Signer: 2, Signature: sig64(2), Patch: 3}, {Signer: 0xfd, Signature: sig64(3)}}, Patch: nodes(4, 8)})
	add("multiSignature", &MultiSignature{})
	add("multiSignaturev0", &MultiSignatureV0{Proofs: []SignatureProofV0{{Signature: sig64(4)}}})
	add("multiSignaturev0", &MultiSignatureV0{
		Proofs: []SignatureProofV0{{Signer: 1, Signature: sig64(5), Patch: &PatchV0{Start: 3, Length: 2, Nodes: []uint64{0, 1, 0xfd}}}, {Signature: sig64(6), Patch: &PatchV0{Start: 1}}},
		Patch:  nodes(3, 9),
	})
	for i := range vs {
		vs[i].Hex = hex.EncodeToString(Encode(vs[i].msg))
	}
	return vs
}

// goManifests returns manifests of every version and layout.
func goManifests() []*Manifest {
	signer := func(f byte) Signer { return Signer{Namespace: key(f), PublicKey: key(f + 100)} }
	return []*Manifest{
		{Version: 1, Quorum: 1, Signers: []Signer{signer(1)}},
		{Version: 1, Quorum: 2, AllowPatch: true, Signers: []Signer{signer(1), signer(2), signer(3)}, Prologue: &Prologue{Hash: key(4), Length: 0x10000}},
		{Version: 1, Prologue: &Prologue{Hash: key(5), Length: 3}, Signers: []Signer{}},
		{Version: 2, Quorum: 1, Signers: []Signer{signer(6)}, Linked: [][32]byte{key(7), key(8)}, UserData: []byte("user data")},
		{Version: 2, Quorum: 1, Signers: []Signer{signer(6)}, Linked: [][32]byte{}, UserData: []byte{}},
		{Version: 0, Prologue: &Prologue{Hash: key(9)}, Signers: []Signer{}},
		{Version: 0, Quorum: 1, Signers: []Signer{signer(10)}},
		{Version: 0, Quorum: 1, AllowPatch: true, Signers: []Signer{signer(11), signer(12)}},
		{Version: 0, Quorum: 2, Signers: []Signer{signer(13), signer(14)}},
		{Version: 0, Signers: []Signer{}},
	}
}

// jsResult is what interop/hypercore/wire_roundtrip.js prints per input.
type jsResult struct {
	OK    bool   `json:"ok"`
	Value any    `json:"value"`
	Hex   string `json:"hex"`
	Error string `json:"error"`
}

// TestGoToJS has JS decode and re-encode every message Go encodes.
func TestGoToJS(t *testing.T) {
	vs := goMessages()
	var results []jsResult
	jsref.JSON(t, vs, &results, "hypercore/wire_roundtrip.js")
	if len(results) != len(vs) {
		t.Fatalf("JS returned %d results for %d inputs", len(results), len(vs))
	}
	for i, v := range vs {
		r := results[i]
		if !r.OK {
			t.Errorf("%d %s: JS could not decode %.80s: %s", i, v.Type, v.Hex, r.Error)
			continue
		}
		if r.Hex != v.Hex {
			t.Errorf("%d %s: JS re-encoded\n got %.200s\nwant %.200s", i, v.Type, r.Hex, v.Hex)
		}
		if got := describe(v.msg); !reflect.DeepEqual(got, r.Value) {
			t.Errorf("%d %s: JS decoded\n got %s\nwant %s", i, v.Type, dump(r.Value), dump(got))
		}
	}
}

// TestLen checks Len against Append, and decode -> encode, for every Go
// vector, without the JS reference.
func TestLen(t *testing.T) {
	for i, v := range goMessages() {
		b := Encode(v.msg)
		if len(b) != v.msg.Len() {
			t.Errorf("%d %s: Len() = %d, encoding has %d bytes", i, v.Type, v.msg.Len(), len(b))
		}
		m := codecs[v.Type]()
		if err := Unmarshal(b, m); err != nil {
			t.Errorf("%d %s: %v", i, v.Type, err)
			continue
		}
		if !reflect.DeepEqual(describe(m), describe(v.msg)) {
			t.Errorf("%d %s: decoded\n got %s\nwant %s", i, v.Type, dump(describe(m)), dump(describe(v.msg)))
		}
	}
}

func TestParse(t *testing.T) {
	for typ := range Type(NumTypes) {
		m := New(typ)
		if m.Type() != typ {
			t.Errorf("New(%v).Type() = %v", typ, m.Type())
		}
	}
	m, err := Parse(TypeRange, []byte{0x02, 0x0a})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m, (&Range{Start: 10, Length: 1}); !reflect.DeepEqual(got, Message(want)) {
		t.Errorf("Parse(range) = %+v, want %+v", got, want)
	}
	if _, err := Parse(NumTypes, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Parse(unknown type) error = %v, want ErrInvalid", err)
	}
	if got := Type(3).String(); got != "data" {
		t.Errorf("Type(3).String() = %q", got)
	}
	if got := Type(42).String(); got != "Type(42)" {
		t.Errorf("Type(42).String() = %q", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		typ  string
		hex  string
		want error
	}{
		{"cancel", "", cenc.ErrOutOfBounds},
		{"cancel", "ff0000000000002000", cenc.ErrUnsafeInteger},
		{"data", "0101000000fe01001000", cenc.ErrArrayTooLarge},
		{"data", "01010000000201" + strings.Repeat("00", 40), cenc.ErrOutOfBounds},
		{"bitfield", "00fe00001000", cenc.ErrOutOfBounds},
		{"manifest", "04", ErrInvalid},
		{"manifest", "0100010000", ErrInvalid},
		{"manifest", "000003", ErrInvalid},
		{"manifest", "010000000101" + strings.Repeat("00", 64), ErrInvalid},
		{"multiSignature", "01", cenc.ErrOutOfBounds},
	}
	for _, tt := range tests {
		b, _ := hex.DecodeString(tt.hex)
		err := Unmarshal(b, codecs[tt.typ]())
		if !errors.Is(err, tt.want) {
			t.Errorf("%s %s: error = %v, want %v", tt.typ, tt.hex, err, tt.want)
		}
	}
}

// TestVarintEdges encodes a node and a sync at each varint threshold and
// checks Len against the encoding.
func TestVarintEdges(t *testing.T) {
	for _, v := range edgeValues {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			n := node(v, v, 1)
			if got, want := len(AppendNode(nil, n)), NodeLen(n); got != want {
				t.Errorf("node: %d bytes, NodeLen %d", got, want)
			}
			s := &Sync{Fork: v, Length: v, RemoteLength: v}
			var got Sync
			if err := Unmarshal(Encode(s), &got); err != nil || got != *s {
				t.Errorf("sync round trip = %+v, %v", got, err)
			}
		})
	}
}

// FuzzMessages decodes arbitrary payloads with every codec (the first byte
// picks it). Properties: no panic; a decoded message encodes to Len bytes,
// which decode to the same message and encode to the same bytes.
func FuzzMessages(f *testing.F) {
	for _, v := range goMessages() {
		b := Encode(v.msg)
		if len(b) > 4096 {
			continue
		}
		for i, name := range codecNames {
			if name == v.Type {
				f.Add(byte(i), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which byte, payload []byte) {
		name := codecNames[int(which)%len(codecNames)]
		m := codecs[name]()
		if err := Unmarshal(payload, m); err != nil {
			return
		}
		b := Encode(m)
		if len(b) != m.Len() {
			t.Fatalf("%s: Len() = %d, encoding has %d bytes", name, m.Len(), len(b))
		}
		m2 := codecs[name]()
		if err := Unmarshal(b, m2); err != nil {
			t.Fatalf("%s: re-encoding %x does not decode: %v", name, b, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("%s: decode(encode(m)) = %+v, want %+v", name, m2, m)
		}
		if b2 := Encode(m2); !bytes.Equal(b, b2) {
			t.Fatalf("%s: encoding not stable: %x then %x", name, b, b2)
		}
	})
}
