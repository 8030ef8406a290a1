package cenc

// AppendBool appends 1 for true and 0 for false (codec bool).
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// Bool reads one byte (codec bool). As in JS, only 0x01 is true; every
// other byte, 0x02 included, is false.
func (d *Decoder) Bool() bool { return d.Uint8() == 1 }

// Bool is one byte, 0 or 1 (codec bool).
var Bool Codec[bool] = fixedCodec(1, AppendBool, (*Decoder).Bool)

// None writes and reads nothing (codec none); it decodes to struct{}{},
// where JS returns null.
var None Codec[struct{}] = fixedCodec(0,
	func(b []byte, _ struct{}) []byte { return b },
	func(*Decoder) struct{} { return struct{}{} })
