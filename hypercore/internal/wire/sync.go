package wire

import "github.com/gopear/gopear/cenc"

// Sync (type 0) tells the remote the sender's fork and length.
// RemoteLength is the length the sender believes the receiver has.
type Sync struct {
	Fork         uint64
	Length       uint64
	RemoteLength uint64
	CanUpgrade   bool // flag 1: the receiver's length is an ancestor of ours
	Uploading    bool // flag 2
	Downloading  bool // flag 4
	HasManifest  bool // flag 8: the sender can send a non-compat manifest
	AllowPush    bool // flag 16: unsolicited data is accepted
}

// Type returns TypeSync.
func (*Sync) Type() Type { return TypeSync }

func (s *Sync) flags() uint64 {
	return boolFlag(s.CanUpgrade, 1) | boolFlag(s.Uploading, 2) | boolFlag(s.Downloading, 4) |
		boolFlag(s.HasManifest, 8) | boolFlag(s.AllowPush, 16)
}

// Len returns the encoded size of s.
func (s *Sync) Len() int {
	return 1 + cenc.UintLen(s.Fork) + cenc.UintLen(s.Length) + cenc.UintLen(s.RemoteLength)
}

// Append appends the encoding of s.
func (s *Sync) Append(b []byte) []byte {
	b = cenc.AppendUint(b, s.flags())
	b = cenc.AppendUint(b, s.Fork)
	b = cenc.AppendUint(b, s.Length)
	return cenc.AppendUint(b, s.RemoteLength)
}

// Decode reads s from d.
func (s *Sync) Decode(d *cenc.Decoder) {
	flags := d.Uint()
	*s = Sync{
		Fork:         d.Uint(),
		Length:       d.Uint(),
		RemoteLength: d.Uint(),
		CanUpgrade:   flags&1 != 0,
		Uploading:    flags&2 != 0,
		Downloading:  flags&4 != 0,
		HasManifest:  flags&8 != 0,
		AllowPush:    flags&16 != 0,
	}
}
