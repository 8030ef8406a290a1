// Command vectors checks gopear against the pinned JS reference on live
// vectors: the same inputs go through gopear's layer-0 packages (cenc,
// hcrypto, flattree, z32) and through the JS modules they match, and each
// line says whether the two agree byte for byte.
//
//	make vectors        # installs the JS reference first, then runs this
//	go run ./examples/vectors
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/z32"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vectors:", err)
		os.Exit(1)
	}
}

func run() error {
	js, err := referenceAnswers()
	if err != nil {
		return err
	}
	ours := goAnswers()
	names := make([]string, 0, len(ours))
	for name := range ours {
		names = append(names, name)
	}
	slices.Sort(names)
	mismatches := 0
	for _, name := range names {
		want, ok := js[name]
		switch {
		case !ok:
			mismatches++
			fmt.Printf("MISSING %-34s the reference gave no answer\n", name)
		case want == ours[name]:
			fmt.Printf("ok      %-34s %s\n", name, ours[name])
		default:
			mismatches++
			fmt.Printf("DIFFER  %-34s go %s\n        %-34s js %s\n", name, ours[name], "", want)
		}
	}
	if mismatches > 0 {
		return fmt.Errorf("%d of %d vectors differ from the JS reference", mismatches, len(names))
	}
	fmt.Printf("all %d vectors agree with the JS reference\n", len(names))
	return nil
}

// referenceAnswers runs vectors.js with node against interop/node_modules.
func referenceAnswers() (map[string]string, error) {
	root, err := jsref.Root()
	if err != nil {
		return nil, err
	}
	cmd, err := jsref.Command(filepath.Join(root, "examples", "vectors", "vectors.js"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node vectors.js: %w", err)
	}
	var answers map[string]string
	if err := json.Unmarshal(out, &answers); err != nil {
		return nil, fmt.Errorf("node vectors.js printed %q: %w", out, err)
	}
	return answers, nil
}

// goAnswers computes the same vectors with gopear.
func goAnswers() map[string]string {
	h := func(b []byte) string { return hex.EncodeToString(b) }
	leaf := hcrypto.LeafHash([]byte("hello"))
	leaf2 := hcrypto.LeafHash([]byte("world"))
	parent := hcrypto.ParentHash(hcrypto.Node{Index: 0, Size: 5, Hash: leaf}, hcrypto.Node{Index: 2, Size: 5, Hash: leaf2})
	tree := hcrypto.TreeHash([]hcrypto.Node{{Index: 1, Size: 10, Hash: parent}})
	var seed [32]byte
	for i := range seed {
		seed[i] = 1
	}
	kp := hcrypto.KeyPairFromSeed(seed)
	pk := kp.PublicKey
	sig := hcrypto.Sign(kp.SecretKey, []byte("gopear"))
	id, err := z32.Decode(hex.EncodeToString(pk[:]))
	idHex := "error: " + fmt.Sprint(err)
	if err == nil {
		idHex = h(id[:])
	}
	roots := []string{}
	for _, r := range flattree.FullRoots(10) {
		roots = append(roots, strconv.FormatUint(r, 10))
	}
	dk := hcrypto.DiscoveryKey([32]byte{})
	ns := hcrypto.Namespace("hypercore", 1)[0]
	return map[string]string{
		"cenc uint 300":                  h(cenc.AppendUint(nil, 300)),
		"cenc uint 2^32":                 h(cenc.AppendUint(nil, 1<<32)),
		"cenc int -2":                    h(cenc.AppendInt(nil, -2)),
		"cenc string 'hé'":               h(cenc.AppendString(nil, "hé")),
		"cenc ipv4Address 1.2.3.4:49737": h(cenc.AppendIPv4Address(nil, netip.MustParseAddrPort("1.2.3.4:49737"))),
		"cenc array(uint) [1,300]":       h(cenc.Encode(cenc.Array(cenc.Uint), []uint64{1, 300})),
		"discovery key of the zero key":  h(dk[:]),
		"leaf hash of 'hello'":           h(leaf[:]),
		"parent hash of 'hello','world'": h(parent[:]),
		"tree hash of that parent":       h(tree[:]),
		"public key from seed 01×32":     h(pk[:]),
		"signature of 'gopear'":          h(sig[:]),
		"namespace('hypercore')[0]":      h(ns[:]),
		"flat-tree fullRoots(10)":        strings.Join(roots, ","),
		"z32 of that public key":         z32.Encode(pk),
		"id-encoding decode of its hex":  idHex,
	}
}
