package hypercore

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// ErrInvalidManifest is wrapped by the errors of manifests that cannot be
// decoded, encoded or used.
var ErrInvalidManifest = errors.New("hypercore: invalid manifest")

// MaxManifestVersion is the highest manifest version hypercore 11 decodes.
// Versions 1 and 2 are the ones it creates (2 when Linked or UserData is
// set); version 3 decodes like them.
const MaxManifestVersion = wire.MaxManifestVersion

// Manifest says who may sign a core, and so fixes its identity: the key of
// a (non-compat) core is the hash of its manifest ([Manifest.Hash]). It
// matches hypercore 11's manifest (lib/verifier.js createManifest, encoded
// by lib/messages.js manifest). Hypercore 11 knows one hash (BLAKE2b) and
// one signature scheme (Ed25519), so those are implied, not fields.
//
// Prologue, Linked and UserData are absent when nil; a present but empty
// Linked or UserData is encoded as present, as JS does, which changes the
// hash. A Manifest is a plain value: safe for concurrent reads, not for
// concurrent mutation.
//
// Why a separate type from the wire encoding: the manifest is public API
// (cores are created with non-default manifests) but travels inside data
// messages, whose codecs live in the internal wire package below this one.
// The wire struct mirrors the encoding (algorithm ids included); this one is
// what users build, and the two are converted field by field.
type Manifest struct {
	// Version is the manifest version: 1 for new cores (JS's default), 2 when
	// Linked or UserData is set, 0 for legacy manifests.
	Version int
	// Quorum is how many signers must sign a tree. JS's default is
	// len(Signers)/2+1, or 0 when there are no signers.
	Quorum int
	// AllowPatch lets a signer's signature of a longer tree count, with the
	// signature carrying the nodes that relate the two trees.
	AllowPatch bool
	// Signers are the keys that sign, in order; signatures refer to them by
	// index.
	Signers []Signer
	// Prologue, if not nil, fixes the first blocks of the core by tree hash.
	Prologue *Prologue
	// Linked lists the keys of related cores (version 2).
	Linked [][32]byte
	// UserData is free-form data bound into the core key (version 2).
	UserData []byte
}

// Signer is one signer of a manifest: an Ed25519 public key and the
// namespace its signatures are made in (DefaultNamespace unless the
// application chose one; version 0 signables embed it).
type Signer struct {
	Namespace [32]byte
	PublicKey hcrypto.PublicKey
}

// Prologue fixes the first Length blocks of a core: a tree of exactly
// Length blocks is valid if its tree hash is Hash, with no signature.
type Prologue struct {
	Hash   [32]byte
	Length uint64
}

// DefaultManifest returns the manifest hypercore creates for a single key
// pair (verifier.js defaultSignerManifest): version 1, quorum 1, one
// signer with DefaultNamespace. Its Hash is the core key, as for every core
// of a corestore.
func DefaultManifest(publicKey hcrypto.PublicKey) *Manifest {
	return &Manifest{
		Version: 1,
		Quorum:  1,
		Signers: []Signer{{Namespace: DefaultNamespace, PublicKey: publicKey}},
	}
}

// DefaultQuorum returns the quorum hypercore picks when none is given for
// n signers: n/2+1, or 0 when n is 0.
func DefaultQuorum(n int) int {
	if n == 0 {
		return 0
	}
	return n/2 + 1
}

// Validate reports whether m is a manifest hypercore would create
// (verifier.js createManifest): a known version, a quorum between 0 and
// the number of signers, Linked and UserData only from version 2, and a
// version 0 manifest that its encoding can represent.
func (m *Manifest) Validate() error {
	switch {
	case m.Version < 0 || m.Version > MaxManifestVersion:
		return fmt.Errorf("%w: unknown version %d", ErrInvalidManifest, m.Version)
	case m.Quorum < 0:
		return fmt.Errorf("%w: negative quorum", ErrInvalidManifest)
	case m.Quorum > len(m.Signers):
		return fmt.Errorf("%w: quorum %d is higher than the number of signers (%d)", ErrInvalidManifest, m.Quorum, len(m.Signers))
	case m.Version < 2 && m.UserData != nil:
		return fmt.Errorf("%w: userData needs version 2", ErrInvalidManifest)
	case m.Version < 2 && m.Linked != nil:
		return fmt.Errorf("%w: linked needs version 2", ErrInvalidManifest)
	}
	return m.checkEncodable()
}

// checkEncodable reports whether m's encoding represents it: the wire
// encoding has no room for a version above MaxManifestVersion, and version
// 0 has no room for Linked, UserData, or a prologue next to signers.
func (m *Manifest) checkEncodable() error {
	if m.Version < 0 || m.Version > MaxManifestVersion {
		return fmt.Errorf("%w: unknown version %d", ErrInvalidManifest, m.Version)
	}
	if m.Quorum < 0 {
		return fmt.Errorf("%w: negative quorum", ErrInvalidManifest)
	}
	if m.Version == 0 {
		if m.Linked != nil || m.UserData != nil {
			return fmt.Errorf("%w: version 0 has no linked or userData", ErrInvalidManifest)
		}
		if m.Prologue != nil && (len(m.Signers) > 0 || m.Prologue.Length != 0) {
			return fmt.Errorf("%w: a version 0 prologue has length 0 and no signers", ErrInvalidManifest)
		}
	}
	return nil
}

// toWire converts m to its wire form.
func (m *Manifest) toWire() *wire.Manifest {
	w := &wire.Manifest{
		Version:    uint64(m.Version),
		Hash:       wire.HashBLAKE2b,
		AllowPatch: m.AllowPatch,
		Quorum:     uint64(m.Quorum),
		Linked:     m.Linked,
		UserData:   m.UserData,
	}
	if m.Signers != nil {
		w.Signers = make([]wire.Signer, len(m.Signers))
		for i, s := range m.Signers {
			w.Signers[i] = wire.Signer{Signature: wire.SignatureEd25519, Namespace: s.Namespace, PublicKey: s.PublicKey}
		}
	}
	if m.Prologue != nil {
		w.Prologue = &wire.Prologue{Hash: m.Prologue.Hash, Length: m.Prologue.Length}
	}
	return w
}

// manifestFromWire converts a decoded wire manifest, copying its byte
// fields so that the result does not alias the message buffer.
func manifestFromWire(w *wire.Manifest) *Manifest {
	m := &Manifest{
		Version:    int(w.Version),
		Quorum:     int(w.Quorum),
		AllowPatch: w.AllowPatch,
		Linked:     w.Linked,
	}
	if w.UserData != nil {
		m.UserData = bytes.Clone(w.UserData)
	}
	if w.Signers != nil {
		m.Signers = make([]Signer, len(w.Signers))
		for i, s := range w.Signers {
			m.Signers[i] = Signer{Namespace: s.Namespace, PublicKey: s.PublicKey}
		}
	}
	if w.Prologue != nil {
		m.Prologue = &Prologue{Hash: w.Prologue.Hash, Length: w.Prologue.Length}
	}
	return m
}

// MarshalBinary returns the encoding of m (messages.js manifest). It fails
// only for manifests the encoding cannot represent (see Validate); it does
// not apply the stricter creation rules of Validate, so that any decoded
// manifest encodes back to the same bytes.
func (m *Manifest) MarshalBinary() ([]byte, error) {
	if err := m.checkEncodable(); err != nil {
		return nil, err
	}
	return wire.Encode(m.toWire()), nil
}

// UnmarshalBinary decodes a manifest, as [ParseManifest] does, into m.
func (m *Manifest) UnmarshalBinary(b []byte) error {
	p, err := ParseManifest(b)
	if err != nil {
		return err
	}
	*m = *p
	return nil
}

// ParseManifest decodes an encoded manifest. Like JS it rejects versions
// above MaxManifestVersion and unknown hash and signature ids, and ignores
// bytes after the manifest. The result does not alias b.
func ParseManifest(b []byte) (*Manifest, error) {
	var w wire.Manifest
	if err := wire.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	return manifestFromWire(&w), nil
}

// Hash returns the manifest hash, BLAKE2b-256(NS_MANIFEST ‖ encoding), which
// is the key of every core created with this manifest except compat cores
// (whose key is their signer's public key). An unencodable manifest (see
// Validate) hashes its best-effort encoding; validate first.
func (m *Manifest) Hash() [32]byte {
	w := m.toWire()
	b := make([]byte, 0, 32+w.Len())
	b = append(b, nsManifest[:]...)
	return hcrypto.Hash(w.Append(b))
}

// isCompat reports whether a core with this key and manifest is a compat
// (hypercore 10 era) core: one signer whose public key is the core key
// (verifier.js isCompat). Compat cores sign the 80-byte compat signable
// with raw signatures, whatever the manifest's version.
func isCompat(key [32]byte, m *Manifest) bool {
	return m != nil && len(m.Signers) == 1 && m.Signers[0].PublicKey == key
}
