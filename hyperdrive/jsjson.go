package hyperdrive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file writes entry values as the JS hyperdrive stores them: the
// bytes of JSON.stringify({ executable, linkname, blob, metadata }), which
// differ from encoding/json's in string escaping (JS escapes neither HTML
// characters nor U+2028/U+2029), in number formatting (JS prints every
// number as a double, 1e21 and up in exponent form) and in the order of
// object keys (JS puts integer-like keys first, ascending; a repeated key
// keeps its first position and its last value).

// encodeValue returns the stored form of v.
func encodeValue(v EntryValue) ([]byte, error) {
	b := make([]byte, 0, 160)
	b = append(b, `{"executable":`...)
	b = strconv.AppendBool(b, v.Executable)
	b = append(b, `,"linkname":`...)
	if v.Linkname == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSString(b, v.Linkname)
	}
	b = append(b, `,"blob":`...)
	if v.Blob == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"blockOffset":`...)
		b = strconv.AppendUint(b, v.Blob.BlockOffset, 10)
		b = append(b, `,"byteOffset":`...)
		b = strconv.AppendUint(b, v.Blob.ByteOffset, 10)
		b = append(b, `,"blockLength":`...)
		b = strconv.AppendUint(b, v.Blob.BlockLength, 10)
		b = append(b, `,"byteLength":`...)
		b = strconv.AppendUint(b, v.Blob.ByteLength, 10)
		if v.Blob.BlockMap {
			b = append(b, `,"blockMap":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, `,"metadata":`...)
	if isNull(v.Metadata) {
		b = append(b, "null"...)
	} else {
		m, err := jsStringify(v.Metadata)
		if err != nil {
			return nil, fmt.Errorf("hyperdrive: metadata: %w", err)
		}
		b = append(b, m...)
	}
	return append(b, '}'), nil
}

// jsStringify returns JSON.stringify(JSON.parse(raw)).
func jsStringify(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readJSValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v.appendTo(nil), nil
}

// jsValue is a parsed JSON value: a scalar already in its JS text, or an
// array or object.
type jsValue struct {
	text  string // scalars
	arr   []jsValue
	isArr bool
	obj   *jsObject
}

// jsObject keeps a JS object's keys in JS's order of properties.
type jsObject struct {
	keys []string
	vals map[string]jsValue
}

const maxJSDepth = 1000

func readJSValue(dec *json.Decoder, depth int) (jsValue, error) {
	if depth > maxJSDepth {
		return jsValue{}, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return jsValue{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			v := jsValue{isArr: true, arr: []jsValue{}}
			for dec.More() {
				e, err := readJSValue(dec, depth+1)
				if err != nil {
					return jsValue{}, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := dec.Token()
			return v, err
		case '{':
			o := &jsObject{vals: map[string]jsValue{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jsValue{}, err
				}
				k := kt.(string)
				e, err := readJSValue(dec, depth+1)
				if err != nil {
					return jsValue{}, err
				}
				if _, ok := o.vals[k]; !ok {
					o.keys = append(o.keys, k)
				}
				o.vals[k] = e
			}
			_, err := dec.Token()
			o.order()
			return jsValue{obj: o}, err
		}
		return jsValue{}, fmt.Errorf("unexpected %v", t)
	case string:
		return jsValue{text: string(appendJSString(nil, t))}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return jsValue{}, err
		}
		return jsValue{text: jsNumber(f)}, nil
	case bool:
		return jsValue{text: strconv.FormatBool(t)}, nil
	case nil:
		return jsValue{text: "null"}, nil
	}
	return jsValue{}, fmt.Errorf("unexpected token %v", tok)
}

// order moves array-index keys first, ascending, as JS orders properties.
func (o *jsObject) order() {
	var idx, rest []string
	for _, k := range o.keys {
		if isArrayIndex(k) {
			idx = append(idx, k)
		} else {
			rest = append(rest, k)
		}
	}
	if len(idx) == 0 {
		return
	}
	// Insertion sort by numeric value: indexes are rare and few.
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && indexLess(idx[j], idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	o.keys = append(idx, rest...)
}

// isArrayIndex reports whether k is a canonical decimal integer below
// 2^32-1, which JS orders before other keys.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < math.MaxUint32
}

func indexLess(a, b string) bool {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	return x < y
}

func (v jsValue) appendTo(b []byte) []byte {
	switch {
	case v.obj != nil:
		b = append(b, '{')
		for i, k := range v.obj.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSString(b, k)
			b = append(b, ':')
			b = v.obj.vals[k].appendTo(b)
		}
		return append(b, '}')
	case v.isArr:
		b = append(b, '[')
		for i, e := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendTo(b)
		}
		return append(b, ']')
	}
	return append(b, v.text...)
}

// appendJSString appends s quoted as JSON.stringify quotes it. Invalid
// UTF-8 becomes U+FFFD, as Buffer.toString does when JS reads the bytes.
func appendJSString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				if c < 0x20 {
					b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
				} else {
					b = append(b, c)
				}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, r)
		i += n
	}
	return append(b, '"')
}

// jsNumber formats f as JS's Number.prototype.toString does (ECMA-262
// Number::toString): the shortest digits that round-trip, in plain
// notation for exponents from -6 to 20, in exponent form otherwise.
func jsNumber(f float64) string {
	if f == 0 {
		return "0" // -0 too
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "null" // JSON.stringify's rendering; JSON input has none
	}
	neg := f < 0
	e := strconv.FormatFloat(math.Abs(f), 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	var s string
	switch {
	case k <= n && n <= 21:
		s = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		s = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		s = "0." + strings.Repeat("0", -n) + digits
	default:
		sign := "+"
		if n-1 < 0 {
			sign = "-"
		}
		ex := strconv.Itoa(abs(n - 1))
		if k == 1 {
			s = digits + "e" + sign + ex
		} else {
			s = digits[:1] + "." + digits[1:] + "e" + sign + ex
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
