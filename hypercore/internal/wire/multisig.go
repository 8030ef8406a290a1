package wire

import (
	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/hcrypto"
)

// SignatureProof is one signer's part of a version 1 multisig: the signer's
// index in the manifest, its Ed25519 signature, and Patch, the number of
// blocks the signed tree extends the verified tree by (0 normally).
type SignatureProof struct {
	Signer    uint64
	Signature [64]byte
	Patch     uint64
}

// MultiSignature is the signature encoding of manifests of version >= 1
// (messages.js multiSignature): the proofs, then the tree nodes shared by
// the patched proofs. It wraps the signature even for a single signer.
type MultiSignature struct {
	Proofs []SignatureProof
	Patch  []hcrypto.Node
}

const proofMinLen = 1 + 64 + 1

// Len returns the encoded size of s.
func (s *MultiSignature) Len() int {
	n := cenc.UintLen(uint64(len(s.Proofs)))
	for _, p := range s.Proofs {
		n += cenc.UintLen(p.Signer) + 64 + cenc.UintLen(p.Patch)
	}
	return n + NodesLen(s.Patch)
}

// Append appends the encoding of s.
func (s *MultiSignature) Append(b []byte) []byte {
	b = cenc.AppendUint(b, uint64(len(s.Proofs)))
	for _, p := range s.Proofs {
		b = cenc.AppendUint(b, p.Signer)
		b = append(b, p.Signature[:]...)
		b = cenc.AppendUint(b, p.Patch)
	}
	return AppendNodes(b, s.Patch)
}

// Decode reads s from d.
func (s *MultiSignature) Decode(d *cenc.Decoder) {
	*s = MultiSignature{}
	n := arrayCount(d, proofMinLen)
	if n > 0 {
		s.Proofs = make([]SignatureProof, n)
		for i := range s.Proofs {
			s.Proofs[i] = SignatureProof{Signer: d.Uint(), Signature: d.Fixed64(), Patch: d.Uint()}
		}
	}
	s.Patch = DecodeNodes(d)
	if d.Err() != nil {
		*s = MultiSignature{}
	}
}

// PatchV0 is the patch of a version 0 multisig proof: the signed tree
// extends [Start, Start+Length) with the shared patch nodes at the indexes
// (into MultiSignatureV0.Patch) listed in Nodes.
type PatchV0 struct {
	Start  uint64
	Length uint64
	Nodes  []uint64
}

// SignatureProofV0 is one signer's part of a version 0 multisig. Patch is
// written with flag 1 when non-nil.
type SignatureProofV0 struct {
	Signer    uint64
	Signature [64]byte
	Patch     *PatchV0
}

// MultiSignatureV0 is the signature encoding of version 0 manifests with
// several signers or patches (messages.js multiSignaturev0).
type MultiSignatureV0 struct {
	Proofs []SignatureProofV0
	Patch  []hcrypto.Node
}

const proofV0MinLen = 1 + 1 + 64

// Len returns the encoded size of s.
func (s *MultiSignatureV0) Len() int {
	n := cenc.UintLen(uint64(len(s.Proofs)))
	for _, p := range s.Proofs {
		n += 1 + cenc.UintLen(p.Signer) + 64
		if q := p.Patch; q != nil {
			n += pairLen(q.Start, q.Length) + cenc.UintLen(uint64(len(q.Nodes)))
			for _, x := range q.Nodes {
				n += cenc.UintLen(x)
			}
		}
	}
	return n + NodesLen(s.Patch)
}

// Append appends the encoding of s.
func (s *MultiSignatureV0) Append(b []byte) []byte {
	b = cenc.AppendUint(b, uint64(len(s.Proofs)))
	for _, p := range s.Proofs {
		b = cenc.AppendUint(b, boolFlag(p.Patch != nil, 1))
		b = cenc.AppendUint(b, p.Signer)
		b = append(b, p.Signature[:]...)
		if q := p.Patch; q != nil {
			b = appendPair(b, q.Start, q.Length)
			b = cenc.AppendUint(b, uint64(len(q.Nodes)))
			for _, x := range q.Nodes {
				b = cenc.AppendUint(b, x)
			}
		}
	}
	return AppendNodes(b, s.Patch)
}

// Decode reads s from d.
func (s *MultiSignatureV0) Decode(d *cenc.Decoder) {
	*s = MultiSignatureV0{}
	n := arrayCount(d, proofV0MinLen)
	if n > 0 {
		s.Proofs = make([]SignatureProofV0, n)
		for i := range s.Proofs {
			flags := d.Uint()
			p := SignatureProofV0{Signer: d.Uint(), Signature: d.Fixed64()}
			if flags&1 != 0 {
				q := &PatchV0{Start: d.Uint(), Length: d.Uint()}
				if k := arrayCount(d, 1); k > 0 {
					q.Nodes = make([]uint64, k)
					for j := range q.Nodes {
						q.Nodes[j] = d.Uint()
					}
				}
				p.Patch = q
			}
			s.Proofs[i] = p
			if d.Err() != nil {
				break
			}
		}
	}
	s.Patch = DecodeNodes(d)
	if d.Err() != nil {
		*s = MultiSignatureV0{}
	}
}
