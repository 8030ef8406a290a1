package wire

import "github.com/gopear/gopear/cenc"

// Handshake is the payload of the channel open frame (wire.handshake): a
// flags uint (bit 0: the sender serves seek requests) and the 32-byte
// replication capability that proves knowledge of the core key.
type Handshake struct {
	Seeks      bool
	Capability [32]byte
}

// Len returns the encoded size of h.
func (h *Handshake) Len() int { return 1 + 32 }

// Append appends the encoding of h.
func (h *Handshake) Append(b []byte) []byte {
	b = cenc.AppendUint(b, boolFlag(h.Seeks, 1))
	return append(b, h.Capability[:]...)
}

// Decode reads h from d.
func (h *Handshake) Decode(d *cenc.Decoder) {
	flags := d.Uint()
	*h = Handshake{Seeks: flags&1 != 0, Capability: d.Fixed32()}
}
