package cenc

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Type tags of codec any, in compact-encoding's order.
const (
	anyNull = iota
	anyBool
	anyString
	anyBuffer
	anyUint
	anyInt
	anyFloat
	anyArray
	anyObject
	anyDate
)

// maxAnyDepth bounds the nesting of arrays and objects the any decoder
// accepts, so that remote input cannot recurse without limit (JS stops at
// its stack size). Deeper input is ErrInvalid.
const maxAnyDepth = 1000

// AnyLen returns the size of AppendAny(nil, v).
func AnyLen(v any) int {
	// Sizing by encoding keeps the two in step; any is a schemaless
	// convenience codec, not a hot path.
	return len(AppendAny(nil, v))
}

// AppendAny appends v as codec any: a varint type tag, then the value in
// the codec of that type. The tag is the one JS picks for the equivalent JS
// value, so JS and Go write the same bytes:
//
//   - nil: null; bool: bool; string: string; []byte: buffer;
//   - integers of every Go integer type: uint when >= 0, int when < 0;
//   - float32 and float64: as JS numbers are, uint or int when the value is
//     an integer in [MinSafeInt, MaxSafeInteger] (-0 included, as 0),
//     float64 otherwise (where JS throws for integers beyond that range);
//   - []any: array; []Entry[any] (in order) and map[string]any (keys
//     sorted): object; time.Time: date.
//
// It panics on any other type, as JS throws "Unsupported type".
func AppendAny(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return AppendUint(b, anyNull)
	case bool:
		return AppendBool(AppendUint(b, anyBool), v)
	case string:
		return AppendString(AppendUint(b, anyString), v)
	case []byte:
		return AppendBuffer(AppendUint(b, anyBuffer), v)
	case int:
		return appendAnyInt(b, int64(v))
	case int8:
		return appendAnyInt(b, int64(v))
	case int16:
		return appendAnyInt(b, int64(v))
	case int32:
		return appendAnyInt(b, int64(v))
	case int64:
		return appendAnyInt(b, v)
	case uint:
		return appendAnyUint(b, uint64(v))
	case uint8:
		return appendAnyUint(b, uint64(v))
	case uint16:
		return appendAnyUint(b, uint64(v))
	case uint32:
		return appendAnyUint(b, uint64(v))
	case uint64:
		return appendAnyUint(b, v)
	case float32:
		return appendAnyFloat(b, float64(v))
	case float64:
		return appendAnyFloat(b, v)
	case []any:
		b = AppendUint(AppendUint(b, anyArray), uint64(len(v)))
		for _, e := range v {
			b = AppendAny(b, e)
		}
		return b
	case []Entry[any]:
		b = AppendUint(AppendUint(b, anyObject), uint64(len(v)))
		for _, e := range v {
			b = AppendAny(AppendString(b, e.Key), e.Value)
		}
		return b
	case map[string]any:
		b = AppendUint(AppendUint(b, anyObject), uint64(len(v)))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			b = AppendAny(AppendString(b, k), v[k])
		}
		return b
	case time.Time:
		return AppendDate(AppendUint(b, anyDate), v)
	}
	panic(fmt.Sprintf("cenc: any cannot encode %T", v))
}

func appendAnyUint(b []byte, v uint64) []byte { return AppendUint(AppendUint(b, anyUint), v) }

func appendAnyInt(b []byte, v int64) []byte {
	if v >= 0 {
		return appendAnyUint(b, uint64(v))
	}
	return AppendInt(AppendUint(b, anyInt), v)
}

func appendAnyFloat(b []byte, v float64) []byte {
	if v == math.Trunc(v) && v >= MinSafeInt && v <= MaxSafeInteger {
		return appendAnyInt(b, int64(v))
	}
	return AppendFloat64(AppendUint(b, anyFloat), v)
}

// Any reads codec any. Values decode to nil, bool, string, []byte (a
// sub-slice of the input), uint64 (tag uint), int64 (tag int), float64,
// []any, []Entry[any] (objects, in wire order) and time.Time. An unknown
// tag is ErrInvalid.
func (d *Decoder) Any() any { return d.anyValue(0) }

func (d *Decoder) anyValue(depth int) any {
	tag := d.Uint()
	if d.err != nil {
		return nil
	}
	switch tag {
	case anyNull:
		return nil
	case anyBool:
		return d.Bool()
	case anyString:
		return d.String()
	case anyBuffer:
		return d.Buffer()
	case anyUint:
		return d.Uint()
	case anyInt:
		return d.Int()
	case anyFloat:
		return d.Float64()
	case anyArray, anyObject:
		if depth == maxAnyDepth {
			d.Fail(ErrInvalid)
			return nil
		}
		if tag == anyArray {
			return d.anyArray(depth + 1)
		}
		return d.anyObject(depth + 1)
	case anyDate:
		return d.Date()
	}
	d.Fail(ErrInvalid)
	return nil
}

// anyArray reads the count and elements of an array. Each element takes at
// least one byte (its tag), which bounds the count.
func (d *Decoder) anyArray(depth int) any {
	n := d.count()
	v := make([]any, 0, n)
	for range n {
		v = append(v, d.anyValue(depth))
	}
	if d.err != nil {
		return nil
	}
	return v
}

// anyObject reads the count and entries of an object.
func (d *Decoder) anyObject(depth int) any {
	n := d.count()
	v := make([]Entry[any], 0, n)
	for range n {
		k := d.String()
		v = append(v, Entry[any]{k, d.anyValue(depth)})
	}
	if d.err != nil {
		return nil
	}
	return v
}

// count reads a varint count of items that take at least one byte each,
// failing with ErrOutOfBounds when they cannot fit in the input left.
func (d *Decoder) count() int {
	n := d.Uint()
	if n > uint64(d.Remaining()) {
		d.Fail(ErrOutOfBounds)
		return 0
	}
	return int(n)
}

// Any is codec any.
var Any Codec[any] = funcCodec[any]{AnyLen, AppendAny, (*Decoder).Any}
