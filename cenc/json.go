package cenc

import (
	"encoding/json"
	"unicode/utf8"
)

// JSONCodec is the codec of JSON text carried as a UTF-8 string (codecs
// json and ndjson). Values are json.RawMessage: the encoder writes the text
// as given (JS writes JSON.stringify's compact form, so use compact text to
// match its bytes; json.Marshal output is compact), and the decoder returns
// the text after checking that it is valid JSON, refusing invalid text with
// ErrInvalid where JS's JSON.parse throws.
type JSONCodec struct{ ndjson bool }

// Codecs of JSON text.
var (
	// JSON is codec json: the text as a string.
	JSON = JSONCodec{}
	// NDJSON is codec ndjson: the text and a newline as a string. The
	// decoder drops that newline.
	NDJSON = JSONCodec{ndjson: true}
)

// Len returns the encoded size of v.
func (c JSONCodec) Len(v json.RawMessage) int { return BufferLen(c.size(v)) }

// Append appends v as a length-prefixed string.
func (c JSONCodec) Append(b []byte, v json.RawMessage) []byte {
	return c.put(AppendUint(b, uint64(c.size(v))), v)
}

// Decode reads a length-prefixed JSON text.
func (c JSONCodec) Decode(d *Decoder) json.RawMessage { return c.parse(d, d.Buffer()) }

// Raw returns the codec of the JSON text without a length, running to the
// end of the input (compact-encoding's raw.json and raw.ndjson).
func (c JSONCodec) Raw() Codec[json.RawMessage] {
	return funcCodec[json.RawMessage]{c.size, c.put,
		func(d *Decoder) json.RawMessage { return c.parse(d, d.Raw()) }}
}

// size returns the byte length of the string JS writes for v.
func (c JSONCodec) size(v json.RawMessage) int {
	n := len(v)
	if !utf8.Valid(v) {
		n = utf8Text{}.size(string(v))
	}
	if c.ndjson {
		n++
	}
	return n
}

// put appends the bytes of the string JS writes for v.
func (c JSONCodec) put(b []byte, v json.RawMessage) []byte {
	if utf8.Valid(v) {
		b = append(b, v...)
	} else {
		b = appendText(b, utf8Text{}, string(v), utf8Text{}.size(string(v)))
	}
	if c.ndjson {
		b = append(b, '\n')
	}
	return b
}

// parse returns the JSON text in p as JS reads it, or fails d.
func (c JSONCodec) parse(d *Decoder, p []byte) json.RawMessage {
	if d.err != nil {
		return nil
	}
	text := []byte(utf8Text{}.text(p))
	if !json.Valid(text) {
		d.Fail(ErrInvalid)
		return nil
	}
	if c.ndjson && len(text) > 0 && text[len(text)-1] == '\n' {
		text = text[:len(text)-1]
	}
	return text
}
