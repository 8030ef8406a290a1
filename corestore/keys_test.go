package corestore

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/internal/jsref"
)

// The JS side of these tests is interop/corestore/keys.js: a real corestore
// 7 per primary key, its namespaced sessions, createKeyPair and get.

type keyCase struct {
	PrimaryKey string   `json:"primaryKey"`
	Namespaces []string `json:"namespaces"`
	Name       string   `json:"name"`
	NameHex    *string  `json:"nameHex,omitempty"`
	Get        bool     `json:"get"`
}

type keyResult struct {
	Namespace string `json:"namespace"`
	PublicKey string `json:"publicKey"`
	Core      *struct {
		Key             string `json:"key"`
		DiscoveryKey    string `json:"discoveryKey"`
		PublicKey       string `json:"publicKey"`
		ManifestVersion int    `json:"manifestVersion"`
	} `json:"core"`
}

func fill(b byte) (k [32]byte) {
	for i := range k {
		k[i] = b
	}
	return k
}

func hx(b []byte) string { return hex.EncodeToString(b) }

func TestDeriveKeyPairJS(t *testing.T) {
	var counting [32]byte
	for i := range counting {
		counting[i] = byte(i * 13)
	}
	primaryKeys := [][32]byte{fill(7), {}, counting}
	namespaces := [][]string{
		{},
		{"app", "v1"}, // ExampleNamespace_Child
		{"a"},
		{"a", "b"},
		{"", ""},
		{"blobs 🦄", "ünïcode", strings.Repeat("n", 200)},
	}
	names := []string{"db", "", "héllo wörld 🦄", "nul\x00inside", strings.Repeat("long name ", 40)}
	binaryNames := []string{"\xff\x00\xfe", "\xc3"} // not UTF-8: JS passes them as Buffers

	var cases []keyCase
	for _, pk := range primaryKeys {
		for _, nss := range namespaces {
			for _, name := range names {
				cases = append(cases, keyCase{PrimaryKey: hx(pk[:]), Namespaces: nss, Name: name, Get: name != ""})
			}
			for _, name := range binaryNames {
				h := hx([]byte(name))
				cases = append(cases, keyCase{PrimaryKey: hx(pk[:]), Namespaces: nss, Name: name, NameHex: &h})
			}
		}
	}
	for i := range cases {
		if cases[i].NameHex != nil {
			cases[i].Name = "" // JS reads the bytes from nameHex
		}
	}

	var out []keyResult
	jsref.JSON(t, cases, &out, "corestore/keys.js")
	if len(out) != len(cases) {
		t.Fatalf("JS returned %d results for %d cases", len(out), len(cases))
	}
	var gets int
	for i, c := range cases {
		name := c.Name
		if c.NameHex != nil {
			b, _ := hex.DecodeString(*c.NameHex)
			name = string(b)
		}
		var pk [32]byte
		hex.Decode(pk[:], []byte(c.PrimaryKey))
		var ns Namespace
		for _, n := range c.Namespaces {
			ns = ns.Child(n)
		}
		desc := fmt.Sprintf("primary key %.8s…, namespaces %q, name %q", c.PrimaryKey, c.Namespaces, name)
		got := out[i]
		if got.Namespace != hx(ns[:]) {
			t.Errorf("%s: namespace %x, JS %s", desc, ns, got.Namespace)
		}
		kp := DeriveKeyPair(pk, ns, name)
		if got.PublicKey != hx(kp.PublicKey[:]) {
			t.Errorf("%s: public key %x, JS createKeyPair %s", desc, kp.PublicKey, got.PublicKey)
		}
		if !kp.Validate() {
			t.Errorf("%s: key pair does not validate", desc)
		}
		if !c.Get {
			continue
		}
		if got.Core == nil {
			t.Fatalf("%s: JS opened no core", desc)
		}
		gets++
		a := namedCoreAuth(pk, ns, name, 1)
		if a.keyPair != kp {
			t.Errorf("%s: namedCoreAuth key pair differs from DeriveKeyPair", desc)
		}
		if got.Core.PublicKey != hx(a.keyPair.PublicKey[:]) || got.Core.Key != hx(a.key[:]) ||
			got.Core.DiscoveryKey != hx(a.discoveryKey[:]) || got.Core.ManifestVersion != a.manifest.Version {
			t.Errorf("%s: core {pk %x key %x dk %x v%d}, JS get {pk %s key %s dk %s v%d}", desc,
				a.keyPair.PublicKey, a.key, a.discoveryKey, a.manifest.Version,
				got.Core.PublicKey, got.Core.Key, got.Core.DiscoveryKey, got.Core.ManifestVersion)
		}
	}
	if gets == 0 {
		t.Fatal("no case opened a core")
	}
}

// PROTOCOLS.md Appendix A.
func TestNamespaceConstant(t *testing.T) {
	const want = "ac5c4cbfb1064776404637a280c71fac823281d351ebeced03151743270def29"
	if got := hx(nsCorestore[:]); got != want {
		t.Errorf("NS_CORESTORE = %s, want %s", got, want)
	}
}

func TestDerivation(t *testing.T) {
	pk := fill(1)
	var root Namespace
	a := root.Child("a")
	if want := hcrypto.Hash(make([]byte, 32), []byte("a")); a != Namespace(want) {
		t.Errorf("Child(a) = %x, want %x", a, want)
	}
	if a.Child("b") == root.Child("ab") || a.Child("b") == root.Child("a").Child("b").Child("") {
		t.Error("nested namespaces collide")
	}
	if a.Child("b") != root.Child("a").Child("b") {
		t.Error("Child is not deterministic")
	}
	seen := map[hcrypto.PublicKey]string{}
	for _, c := range []struct {
		pk   [32]byte
		ns   Namespace
		name string
	}{{pk, root, "x"}, {pk, a, "x"}, {pk, root, "y"}, {fill(2), root, "x"}, {pk, root, ""}} {
		kp := DeriveKeyPair(c.pk, c.ns, c.name)
		desc := fmt.Sprintf("%x/%x/%q", c.pk[:2], c.ns[:2], c.name)
		if prev, ok := seen[kp.PublicKey]; ok {
			t.Errorf("%s and %s derive the same key pair", prev, desc)
		}
		seen[kp.PublicKey] = desc
		if DeriveKeyPair(c.pk, c.ns, c.name) != kp {
			t.Errorf("%s: DeriveKeyPair is not deterministic", desc)
		}
	}
}
