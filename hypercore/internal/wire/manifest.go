package wire

import (
	"fmt"

	"github.com/gopear/gopear/cenc"
)

// Manifest flags (version >= 1).
const (
	manifestPatch    = 1 << 0
	manifestPrologue = 1 << 1
	manifestLinked   = 1 << 2
	manifestUserData = 1 << 3
)

// Hash and signature algorithm ids. Zero is the only value of each.
const (
	HashBLAKE2b      = 0 // manifest hash "blake2b"
	SignatureEd25519 = 0 // signer signature "ed25519"
)

// MaxManifestVersion is the highest manifest version the decoder accepts,
// as messages.js (which rejects versions above 3) does.
const MaxManifestVersion = 3

// Manifest is the manifest encoding of messages.js: the description of who
// signs a core, whose hash (with a namespace) is the core key. Package
// hypercore has the public Manifest type and converts to and from this one;
// this struct mirrors the encoding, including presence: Prologue, Linked
// and UserData are written (and their flags set) exactly when non-nil, so a
// decoded manifest re-encodes to the same bytes.
//
// Version 0 has its own layout (type 0: prologue hash only; type 1: one
// signer; type 2: flags, quorum, signers), chosen from the fields as JS
// chooses it; Linked and UserData are not encoded in version 0.
type Manifest struct {
	Version    uint64
	Hash       uint64 // hash algorithm id: HashBLAKE2b
	AllowPatch bool
	Quorum     uint64
	Signers    []Signer
	Prologue   *Prologue
	Linked     [][32]byte // version >= 2
	UserData   []byte     // version >= 2
}

// Signer is one manifest signer: algorithm id, namespace and public key.
type Signer struct {
	Signature uint64 // signature algorithm id: SignatureEd25519
	Namespace [32]byte
	PublicKey [32]byte
}

// Prologue fixes the first Length blocks of a core by their tree hash.
type Prologue struct {
	Hash   [32]byte
	Length uint64
}

const signerMinLen = 1 + 32 + 32

func signersLen(s []Signer) int {
	n := cenc.UintLen(uint64(len(s)))
	for _, x := range s {
		n += cenc.UintLen(x.Signature) + 64
	}
	return n
}

func appendSigners(b []byte, s []Signer) []byte {
	b = cenc.AppendUint(b, uint64(len(s)))
	for _, x := range s {
		b = cenc.AppendUint(b, x.Signature)
		b = append(b, x.Namespace[:]...)
		b = append(b, x.PublicKey[:]...)
	}
	return b
}

func decodeSigner(d *cenc.Decoder) Signer {
	id := d.Uint()
	if d.Err() == nil && id != SignatureEd25519 {
		d.Fail(fmt.Errorf("%w: unknown signature id %d", ErrInvalid, id))
	}
	return Signer{Signature: id, Namespace: d.Fixed32(), PublicKey: d.Fixed32()}
}

func decodeSigners(d *cenc.Decoder) []Signer {
	n := arrayCount(d, signerMinLen)
	s := make([]Signer, n)
	for i := range s {
		s[i] = decodeSigner(d)
	}
	if d.Err() != nil {
		return nil
	}
	return s
}

func decodeHashID(d *cenc.Decoder) uint64 {
	id := d.Uint()
	if d.Err() == nil && id != HashBLAKE2b {
		d.Fail(fmt.Errorf("%w: unknown hash id %d", ErrInvalid, id))
	}
	return id
}

// v0Type returns the version 0 layout JS picks for m.
func (m *Manifest) v0Type() uint64 {
	switch {
	case m.Prologue != nil && len(m.Signers) == 0:
		return 0
	case m.Quorum == 1 && len(m.Signers) == 1 && !m.AllowPatch:
		return 1
	default:
		return 2
	}
}

func (m *Manifest) flags() uint64 {
	return boolFlag(m.AllowPatch, manifestPatch) | boolFlag(m.Prologue != nil, manifestPrologue) |
		boolFlag(m.Linked != nil, manifestLinked) | boolFlag(m.UserData != nil, manifestUserData)
}

// Len returns the encoded size of m.
func (m *Manifest) Len() int {
	n := cenc.UintLen(m.Version) + cenc.UintLen(m.Hash)
	if m.Version == 0 {
		switch m.v0Type() {
		case 0:
			return n + 1 + 32
		case 1:
			return n + 1 + cenc.UintLen(m.Signers[0].Signature) + 64
		default:
			return n + 1 + 1 + cenc.UintLen(m.Quorum) + signersLen(m.Signers)
		}
	}
	n += 1 + cenc.UintLen(m.Quorum) + signersLen(m.Signers)
	if p := m.Prologue; p != nil {
		n += 32 + cenc.UintLen(p.Length)
	}
	if m.Linked != nil {
		n += cenc.UintLen(uint64(len(m.Linked))) + 32*len(m.Linked)
	}
	if m.UserData != nil {
		n += cenc.BufferLen(len(m.UserData))
	}
	return n
}

// Append appends the encoding of m.
func (m *Manifest) Append(b []byte) []byte {
	b = cenc.AppendUint(b, m.Version)
	if m.Version == 0 {
		b = cenc.AppendUint(b, m.Hash)
		t := m.v0Type()
		b = cenc.AppendUint(b, t)
		switch t {
		case 0:
			return append(b, m.Prologue.Hash[:]...)
		case 1:
			s := m.Signers[0]
			b = cenc.AppendUint(b, s.Signature)
			b = append(b, s.Namespace[:]...)
			return append(b, s.PublicKey[:]...)
		default:
			b = cenc.AppendUint(b, boolFlag(m.AllowPatch, 1))
			b = cenc.AppendUint(b, m.Quorum)
			return appendSigners(b, m.Signers)
		}
	}
	b = cenc.AppendUint(b, m.flags())
	b = cenc.AppendUint(b, m.Hash)
	b = cenc.AppendUint(b, m.Quorum)
	b = appendSigners(b, m.Signers)
	if p := m.Prologue; p != nil {
		b = append(b, p.Hash[:]...)
		b = cenc.AppendUint(b, p.Length)
	}
	if m.Linked != nil {
		b = cenc.AppendUint(b, uint64(len(m.Linked)))
		for _, k := range m.Linked {
			b = append(b, k[:]...)
		}
	}
	if m.UserData != nil {
		b = cenc.AppendBuffer(b, m.UserData)
	}
	return b
}

// Decode reads m from d. Unknown versions (above MaxManifestVersion), hash
// ids, signature ids and version 0 types are errors wrapping ErrInvalid.
// UserData is a sub-slice of the input.
func (m *Manifest) Decode(d *cenc.Decoder) {
	*m = Manifest{Version: d.Uint()}
	if d.Err() != nil {
		return
	}
	if m.Version == 0 {
		m.decodeV0(d)
		return
	}
	if m.Version > MaxManifestVersion {
		d.Fail(fmt.Errorf("%w: unknown manifest version %d", ErrInvalid, m.Version))
		return
	}
	flags := d.Uint()
	m.Hash = decodeHashID(d)
	m.Quorum = d.Uint()
	m.AllowPatch = flags&manifestPatch != 0
	m.Signers = decodeSigners(d)
	if flags&manifestPrologue != 0 {
		m.Prologue = &Prologue{Hash: d.Fixed32(), Length: d.Uint()}
	}
	if flags&manifestLinked != 0 {
		n := arrayCount(d, 32)
		m.Linked = make([][32]byte, n)
		for i := range m.Linked {
			m.Linked[i] = d.Fixed32()
		}
	}
	if flags&manifestUserData != 0 {
		m.UserData = d.Buffer()
	}
	if d.Err() != nil {
		*m = Manifest{}
	}
}

func (m *Manifest) decodeV0(d *cenc.Decoder) {
	m.Hash = decodeHashID(d)
	t := d.Uint()
	if d.Err() != nil {
		return
	}
	switch t {
	case 0:
		m.Prologue = &Prologue{Hash: d.Fixed32()}
	case 1:
		m.Quorum = 1
		m.Signers = []Signer{decodeSigner(d)}
	case 2:
		m.AllowPatch = d.Uint()&1 != 0
		m.Quorum = d.Uint()
		m.Signers = decodeSigners(d)
	default:
		d.Fail(fmt.Errorf("%w: unknown version 0 manifest type %d", ErrInvalid, t))
	}
	if d.Err() != nil {
		*m = Manifest{}
	}
}
