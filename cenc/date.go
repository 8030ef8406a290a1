package cenc

import "time"

// AppendDate appends t as its Unix time in milliseconds, a zig-zag varint
// (codec date). Sub-millisecond precision is dropped, as a JS Date has none.
func AppendDate(b []byte, t time.Time) []byte { return AppendInt(b, t.UnixMilli()) }

// DateLen returns the size of AppendDate(nil, t).
func DateLen(t time.Time) int { return IntLen(t.UnixMilli()) }

// Date reads a date (codec date) and returns it in UTC.
func (d *Decoder) Date() time.Time { return time.UnixMilli(d.Int()).UTC() }

// Date is a time as Unix milliseconds, a zig-zag varint (codec date).
var Date Codec[time.Time] = funcCodec[time.Time]{DateLen, AppendDate, (*Decoder).Date}
