package wire

import (
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"unicode"
)

// codecs names every codec as the JS scripts in interop/hypercore name
// them, with a constructor of a zero value.
var codecs = map[string]func() Codec{
	"handshake":        func() Codec { return new(Handshake) },
	"sync":             func() Codec { return new(Sync) },
	"request":          func() Codec { return new(Request) },
	"cancel":           func() Codec { return new(Cancel) },
	"data":             func() Codec { return new(Data) },
	"noData":           func() Codec { return new(NoData) },
	"want":             func() Codec { return new(Want) },
	"unwant":           func() Codec { return new(Unwant) },
	"bitfield":         func() Codec { return new(Bitfield) },
	"range":            func() Codec { return new(Range) },
	"extension":        func() Codec { return new(Extension) },
	"reorgHint":        func() Codec { return new(ReorgHint) },
	"manifest":         func() Codec { return new(Manifest) },
	"multiSignature":   func() Codec { return new(MultiSignature) },
	"multiSignaturev0": func() Codec { return new(MultiSignatureV0) },
}

// codecNames lists the keys of codecs in a fixed order (the fuzz target
// picks one by index).
var codecNames = []string{
	"sync", "request", "cancel", "data", "noData", "want", "unwant", "bitfield", "range", "extension",
	"handshake", "reorgHint", "manifest", "multiSignature", "multiSignaturev0",
}

var bytesType = reflect.TypeFor[[]byte]()

// describe returns the JSON description of a decoded value in the shape
// interop/hypercore/wire_common.js gives JS's decoded values, normalised
// through encoding/json so that the two compare with reflect.DeepEqual.
func describe(v any) any {
	b, err := json.Marshal(describeValue(reflect.ValueOf(v)))
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// jsName is the JS field name of a Go field: lower camel case.
func jsName(f reflect.StructField) string {
	if f.Name == "ID" {
		return "id"
	}
	r := []rune(f.Name)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

func describeValue(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return describeValue(v.Elem())
	case reflect.Bool:
		return v.Bool()
	case reflect.Uint64, reflect.Uint32:
		return v.Uint()
	case reflect.String:
		return v.String()
	case reflect.Array: // [N]byte
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return hex.EncodeToString(b)
	case reflect.Slice:
		if v.Type() == bytesType {
			if v.IsNil() {
				return nil // JS: null (optionalBuffer, absent userData)
			}
			return hex.EncodeToString(v.Bytes())
		}
		if v.IsNil() && v.Type().Elem().Kind() == reflect.Array {
			return nil // absent manifest.linked
		}
		out := make([]any, v.Len()) // JS decodes empty arrays as []
		for i := range out {
			out[i] = describeValue(v.Index(i))
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			out[jsName(f)] = describeValue(v.Field(i))
		}
		switch v.Type() {
		case reflect.TypeFor[Manifest]():
			out["hash"] = algorithmName(v.FieldByName("Hash").Uint(), "blake2b")
		case reflect.TypeFor[Signer]():
			out["signature"] = algorithmName(v.FieldByName("Signature").Uint(), "ed25519")
		}
		return out
	}
	panic("describe: unexpected kind " + v.Kind().String())
}

func algorithmName(id uint64, zero string) any {
	if id == 0 {
		return zero
	}
	return id
}

// dump returns a short JSON rendering of a description for test failures.
func dump(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return strings.TrimSpace(s)
}
