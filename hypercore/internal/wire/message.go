package wire

import (
	"fmt"

	"github.com/gopear/gopear/cenc"
)

// Type is the index of a message on a hypercore replication channel: the
// order in which hypercore registers its messages on the protomux channel
// (lib/replicator.js). The numbers are on the wire.
type Type uint64

// The registered message types of protocol "hypercore/alpha".
const (
	TypeSync      Type = 0
	TypeRequest   Type = 1
	TypeCancel    Type = 2
	TypeData      Type = 3
	TypeNoData    Type = 4
	TypeWant      Type = 5
	TypeUnwant    Type = 6
	TypeBitfield  Type = 7
	TypeRange     Type = 8
	TypeExtension Type = 9
)

// NumTypes is the number of registered message types.
const NumTypes = 10

var typeNames = [NumTypes]string{"sync", "request", "cancel", "data", "noData", "want", "unwant", "bitfield", "range", "extension"}

// String returns the JS name of the message type.
func (t Type) String() string {
	if t < NumTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint64(t))
}

// Codec is implemented by every message of this package, including the
// channel handshake, the unregistered reorgHint, manifests and signatures.
type Codec interface {
	// Len returns the number of bytes Append writes.
	Len() int
	// Append appends the encoding of the message to b.
	Append(b []byte) []byte
	// Decode reads the message from d, replacing every field. Errors are
	// recorded in d.
	Decode(d *cenc.Decoder)
}

// Message is a message registered on the replication channel.
type Message interface {
	Codec
	// Type returns the channel message type.
	Type() Type
}

// Encode returns the encoding of m in a new slice of exactly m.Len() bytes.
func Encode(m Codec) []byte {
	return m.Append(make([]byte, 0, m.Len()))
}

// Unmarshal decodes b into m. Bytes after the message are ignored, as JS
// ignores them.
func Unmarshal(b []byte, m Codec) error {
	d := cenc.NewDecoder(b)
	m.Decode(d)
	if err := d.Err(); err != nil {
		return fmt.Errorf("wire: decoding %T: %w", m, err)
	}
	return nil
}

// New returns a new zero message of type t, or nil if t is not registered.
func New(t Type) Message {
	switch t {
	case TypeSync:
		return new(Sync)
	case TypeRequest:
		return new(Request)
	case TypeCancel:
		return new(Cancel)
	case TypeData:
		return new(Data)
	case TypeNoData:
		return new(NoData)
	case TypeWant:
		return new(Want)
	case TypeUnwant:
		return new(Unwant)
	case TypeBitfield:
		return new(Bitfield)
	case TypeRange:
		return new(Range)
	case TypeExtension:
		return new(Extension)
	}
	return nil
}

// Parse decodes the payload of a channel message of type t.
func Parse(t Type, b []byte) (Message, error) {
	m := New(t)
	if m == nil {
		return nil, fmt.Errorf("%w: unknown message type %d", ErrInvalid, uint64(t))
	}
	if err := Unmarshal(b, m); err != nil {
		return nil, err
	}
	return m, nil
}
