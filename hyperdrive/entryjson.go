package hyperdrive

import (
	"bytes"
	"math"
	"unicode/utf8"
)

// decodeCanonical decodes an entry value written as hyperdrive writes
// one (JSON.stringify of { executable, linkname, blob, metadata }, in that
// order, metadata null), without encoding/json, which takes most of the
// time of listing a drive. It reports false for anything else (other
// spacing or order, escapes in the link name, metadata), which
// DecodeEntryValue then hands to encoding/json; what it accepts decodes
// as encoding/json decodes it (FuzzDecodeCanonical).
func decodeCanonical(b []byte) (EntryValue, bool) {
	var v EntryValue
	s := scanner{b: b, ok: true}
	s.lit(`{"executable":`)
	switch {
	case s.try(`true`):
		v.Executable = true
	case s.try(`false`):
	default:
		return EntryValue{}, false
	}
	s.lit(`,"linkname":`)
	if !s.try(`null`) {
		v.Linkname = s.plainString()
	}
	s.lit(`,"blob":`)
	if !s.try(`null`) {
		var id BlobID
		s.lit(`{"blockOffset":`)
		id.BlockOffset = s.uint()
		s.lit(`,"byteOffset":`)
		id.ByteOffset = s.uint()
		s.lit(`,"blockLength":`)
		id.BlockLength = s.uint()
		s.lit(`,"byteLength":`)
		id.ByteLength = s.uint()
		id.BlockMap = s.try(`,"blockMap":true`)
		s.lit(`}`)
		v.Blob = &id
	}
	s.lit(`,"metadata":null}`)
	if !s.ok || len(s.b) != 0 {
		return EntryValue{}, false
	}
	return v, true
}

// scanner reads the canonical form; ok turns false at the first thing
// that is not, and every read after returns zero values.
type scanner struct {
	b  []byte
	ok bool
}

// try consumes lit if b starts with it.
func (s *scanner) try(lit string) bool {
	if !s.ok || len(s.b) < len(lit) || string(s.b[:len(lit)]) != lit {
		return false
	}
	s.b = s.b[len(lit):]
	return true
}

// lit consumes lit, which must come next.
func (s *scanner) lit(lit string) {
	if !s.try(lit) {
		s.fail()
	}
}

func (s *scanner) fail() { s.ok, s.b = false, nil }

// plainString reads a JSON string of valid UTF-8 without escapes or
// control characters.
func (s *scanner) plainString() string {
	if !s.try(`"`) {
		s.fail()
		return ""
	}
	i := bytes.IndexByte(s.b, '"')
	if i < 0 {
		s.fail()
		return ""
	}
	str := s.b[:i]
	for _, c := range str {
		if c < 0x20 || c == '\\' {
			s.fail()
			return ""
		}
	}
	if !utf8.Valid(str) {
		s.fail()
		return ""
	}
	s.b = s.b[i+1:]
	return string(str)
}

// uint reads a JSON number that is a uint64 written plainly: digits, no
// leading zero.
func (s *scanner) uint() uint64 {
	n := 0
	var x uint64
	for ; s.ok && n < len(s.b) && '0' <= s.b[n] && s.b[n] <= '9'; n++ {
		d := uint64(s.b[n] - '0')
		if x > (math.MaxUint64-d)/10 {
			s.fail() // overflows, as encoding/json says too
			return 0
		}
		x = x*10 + d
	}
	if n == 0 || (n > 1 && s.b[0] == '0') {
		s.fail()
		return 0
	}
	s.b = s.b[n:]
	return x
}
