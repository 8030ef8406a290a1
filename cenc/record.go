package cenc

// Entry is one key and value of a record, in wire order.
type Entry[V any] struct {
	Key   string
	Value V
}

// Record returns the codec of a JS object of string keys (codec record):
// a varint count, then each key in key's encoding and its value in
// value's. Entries are kept in wire order, duplicates included, where JS
// keeps the last of duplicate keys and moves integer-like keys first; so
// JS writes the same bytes for entries without those. Each entry must
// take at least one byte on the wire.
func Record[V any](key Codec[string], value Codec[V]) Codec[[]Entry[V]] {
	return recordCodec[V]{key, value}
}

// StringRecord is codec stringRecord, a record of UTF-8 keys and values.
var StringRecord = Record[string](String, String)

type recordCodec[V any] struct {
	key   Codec[string]
	value Codec[V]
}

func (r recordCodec[V]) Len(v []Entry[V]) int {
	n := UintLen(uint64(len(v)))
	for _, e := range v {
		n += r.key.Len(e.Key) + r.value.Len(e.Value)
	}
	return n
}

func (r recordCodec[V]) Append(b []byte, v []Entry[V]) []byte {
	b = AppendUint(b, uint64(len(v)))
	for _, e := range v {
		b = r.value.Append(r.key.Append(b, e.Key), e.Value)
	}
	return b
}

func (r recordCodec[V]) Decode(d *Decoder) []Entry[V] {
	n := d.Uint()
	if d.err != nil {
		return nil
	}
	// Every entry of a record takes at least one byte; this bounds the
	// loop and the allocation (JS sets no limit on the count).
	if n > uint64(d.Remaining()) {
		d.Fail(ErrOutOfBounds)
		return nil
	}
	v := make([]Entry[V], n)
	for i := range v {
		v[i].Key = r.key.Decode(d)
		v[i].Value = r.value.Decode(d)
	}
	if d.err != nil {
		return nil
	}
	return v
}
