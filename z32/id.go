package z32

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKey is wrapped by every error [Decode] returns: the string is
// not a 32-byte key in any form hypercore-id-encoding accepts.
var ErrInvalidKey = errors.New("z32: invalid hypercore key")

// pearScheme is the prefix of a Pear link; the key is the part after it,
// up to the next '/'.
const pearScheme = "pear://"

// Encode returns the 52-character z-base-32 form of a 32-byte key, as
// hypercore-id-encoding's encode does. It is the form Pear links and
// gopear's key types print.
func Encode(key [32]byte) string {
	return EncodeToString(key[:])
}

// Decode parses a hypercore key the way hypercore-id-encoding 1.3.0's
// decode parses a string:
//
//   - a string starting with "pear://" is cut to the part between that
//     prefix and the next '/' (so "pear://<key>/path" gives "<key>");
//   - 52 characters are z-base-32 (any trailing bits are ignored, as in
//     z32 1.1.0);
//   - 64 characters are hexadecimal, in either case;
//   - anything else is an error.
//
// Every error wraps [ErrInvalidKey]; a bad z-base-32 character also wraps
// [ErrInvalidCharacter]. Unlike JS, lengths count bytes, not UTF-16 code
// units; the two differ only for non-ASCII input, which both refuse.
func Decode(s string) ([32]byte, error) {
	var key [32]byte
	id := s
	if rest, ok := strings.CutPrefix(id, pearScheme); ok {
		id, _, _ = strings.Cut(rest, "/")
	}
	switch len(id) {
	case 52:
		b, err := AppendDecode(key[:0], id)
		if err != nil {
			return [32]byte{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		if len(b) != 32 {
			panic("z32: 52 characters did not decode to 32 bytes")
		}
		return key, nil
	case 64:
		if _, err := hex.Decode(key[:], []byte(id)); err != nil {
			return [32]byte{}, fmt.Errorf("%w: bad hex: %w", ErrInvalidKey, err)
		}
		return key, nil
	}
	return [32]byte{}, fmt.Errorf("%w: %d characters, want 52 (z-base-32) or 64 (hex)", ErrInvalidKey, len(id))
}

// Normalize returns the z-base-32 form of the key s names in any form
// [Decode] accepts (hypercore-id-encoding normalize).
func Normalize(s string) (string, error) {
	key, err := Decode(s)
	if err != nil {
		return "", err
	}
	return Encode(key), nil
}

// IsValid reports whether [Decode] accepts s (hypercore-id-encoding
// isValid).
func IsValid(s string) bool {
	_, err := Decode(s)
	return err == nil
}
