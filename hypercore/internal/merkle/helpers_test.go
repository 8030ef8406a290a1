package merkle

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gopear/gopear/hcrypto"
)

// testBlock is block i of generation gen, as interop/hypercore/merkle.js
// makes it: "gen:i:" and (7i+3gen) mod 23 x's, so sizes vary.
func testBlock(i, gen uint64) []byte {
	return []byte(strconv.FormatUint(gen, 10) + ":" + strconv.FormatUint(i, 10) + ":" +
		strings.Repeat("x", int((i*7+gen*3)%23)))
}

// step is one step of building a test core: append n blocks of a
// generation, or truncate to a length (bumping the fork).
type step struct {
	Append   uint64
	Gen      uint64
	Truncate uint64
	isTrunc  bool
}

// MarshalJSON writes the step as merkle.js reads it.
func (s step) MarshalJSON() ([]byte, error) {
	if s.isTrunc {
		return json.Marshal(map[string]uint64{"truncate": s.Truncate})
	}
	return json.Marshal(map[string]uint64{"append": s.Append, "gen": s.Gen})
}

func appendStep(n, gen uint64) step { return step{Append: n, Gen: gen} }
func truncStep(length uint64) step  { return step{Truncate: length, isTrunc: true} }

// signer signs trees as a default hypercore 11 core with one Ed25519
// signer does: a multisig of one over the 112-byte signable.
type signer struct {
	kp  hcrypto.KeyPair
	key [32]byte // the core key (manifest hash)
}

var nsTree = hcrypto.Namespace("hypercore", 1)[0]

func signable(key, treeHash [32]byte, length, fork uint64) []byte {
	b := make([]byte, 0, 112)
	b = append(b, nsTree[:]...)
	b = append(b, key[:]...)
	b = append(b, treeHash[:]...)
	b = binary.LittleEndian.AppendUint64(b, length)
	return binary.LittleEndian.AppendUint64(b, fork)
}

func (s *signer) sign(b *Batch) []byte {
	sig := hcrypto.Sign(s.kp.SecretKey, signable(s.key, b.Hash(), b.Length(), b.Fork()))
	out := []byte{1, 0}
	out = append(out, sig[:]...)
	return append(out, 0, 0)
}

func (s *signer) verifier() VerifyFunc {
	return func(treeHash [32]byte, length, fork uint64, sig []byte) error {
		if len(sig) != 68 || sig[0] != 1 || sig[1] != 0 || sig[66] != 0 || sig[67] != 0 {
			return errors.New("not a one-signer multisig")
		}
		if !hcrypto.Verify(s.kp.PublicKey[:], signable(s.key, treeHash, length, fork), sig[2:66]) {
			return errors.New("bad signature")
		}
		return nil
	}
}

// build makes a tree by the steps, signing each change when s is not nil.
func build(t testing.TB, s *signer, steps ...step) (*Tree, MemNodes) {
	t.Helper()
	nodes := MemNodes{}
	tree := New(nodes)
	for _, st := range steps {
		var b *Batch
		if st.isTrunc {
			var err error
			if b, err = tree.Truncate(st.Truncate, tree.Fork()+1); err != nil {
				t.Fatal(err)
			}
		} else {
			b = tree.Batch()
			for i := range st.Append {
				b.Append(testBlock(tree.Length()+i, st.Gen))
			}
		}
		if s != nil {
			b.SetSignature(s.sign(b))
		}
		if err := tree.Commit(b, func(c *Changes) error { nodes.Apply(c); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return tree, nodes
}

// prefix returns the tree of the first length blocks of full, with the
// nodes of that tree only, as a writer that appended them would have.
func prefix(t testing.TB, full MemNodes, length, fork uint64) *Tree {
	t.Helper()
	nodes := MemNodes{}
	for i, n := range full {
		if _, r := spans(i); r < 2*length {
			nodes[i] = n
		}
	}
	tree, err := Open(nodes, length, fork, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func spans(i uint64) (uint64, uint64) {
	d := uint64(0)
	for (i>>d)&1 == 1 {
		d++
	}
	return i - (1<<d - 1), i + (1<<d - 1)
}

func nodeString(n hcrypto.Node) string {
	return fmt.Sprintf("{%d %d %x}", n.Index, n.Size, n.Hash[:4])
}

func nodesEqual(a, b []hcrypto.Node) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
