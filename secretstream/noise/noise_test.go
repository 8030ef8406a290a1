package noise

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"sync"
	"testing"

	"github.com/gopear/gopear/internal/jsref"
)

type jsHandshake struct {
	Pattern  string `json:"pattern"`
	Prologue string `json:"prologue"`
	Messages []struct {
		Message  string `json:"message"`
		Payload  string `json:"payload"`
		Received string `json:"received"`
	} `json:"messages"`
	Hash            string `json:"hash"`
	InitiatorTx     string `json:"initiatorTx"`
	InitiatorRx     string `json:"initiatorRx"`
	ResponderTx     string `json:"responderTx"`
	ResponderRx     string `json:"responderRx"`
	InitiatorRemote string `json:"initiatorRemote"`
	ResponderRemote string `json:"responderRemote"`
}

type jsVectors struct {
	Seeds []struct {
		Seed      byte   `json:"seed"`
		PublicKey string `json:"publicKey"`
	} `json:"seeds"`
	DH []struct {
		Local  byte   `json:"local"`
		Remote byte   `json:"remote"`
		Shared string `json:"shared"`
	} `json:"dh"`
	XX        jsHandshake `json:"xx"`
	XXPayload jsHandshake `json:"xxPayload"`
	IK        jsHandshake `json:"ik"`
}

var (
	vectorsOnce sync.Once
	vectors     jsVectors
)

func loadVectors(t *testing.T) *jsVectors {
	t.Helper()
	jsref.Require(t)
	vectorsOnce.Do(func() { jsref.JSON(t, nil, &vectors, "secretstream/vectors.js", "vectors") })
	if vectors.XX.Hash == "" {
		t.Fatal("no vectors from the JS reference")
	}
	return &vectors
}

func seeded(s byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{s}, 32))
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDHVectors(t *testing.T) {
	v := loadVectors(t)
	for _, s := range v.Seeds {
		if got := hex.EncodeToString(seeded(s.Seed)[32:]); got != s.PublicKey {
			t.Errorf("public key of seed %d = %s, want %s", s.Seed, got, s.PublicKey)
		}
	}
	for _, d := range v.DH {
		got, err := dh(seeded(d.Local), seeded(d.Remote)[32:])
		if err != nil {
			t.Fatalf("dh(%d, %d): %v", d.Local, d.Remote, err)
		}
		if hex.EncodeToString(got[:]) != d.Shared {
			t.Errorf("dh(%d, %d) = %x, want %s", d.Local, d.Remote, got, d.Shared)
		}
	}
}

func TestDHRejectsBadPoints(t *testing.T) {
	k := seeded(1)
	// p = 2^255-19, little endian
	p := make([]byte, 32)
	for i := range p {
		p[i] = 0xff
	}
	p[0] = 0xed
	p[31] = 0x7f
	identity := make([]byte, 32)
	identity[0] = 1
	order2 := append([]byte(nil), p...) // y = -1 = p-1
	order2[0] = 0xec
	nonCanonicalOne := append([]byte(nil), p...) // y = p+1 ≡ 1
	nonCanonicalOne[0] = 0xee
	// A point of order 8L: a valid key plus a point of order 8 (whose y is
	// below, from the libsodium blacklist).
	order8 := unhexT("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	P, _ := new(edwardsPoint).SetBytes(seeded(2)[32:])
	T, _ := new(edwardsPoint).SetBytes(order8)
	mixed := new(edwardsPoint).Add(P, T).Bytes()

	for name, pub := range map[string][]byte{
		"identity":          identity,
		"order 2":           order2,
		"order 8":           order8,
		"non-canonical one": nonCanonicalOne,
		"not on curve":      unhexT("0200000000000000000000000000000000000000000000000000000000000000"),
		"torsion component": mixed,
		"short":             seeded(2)[32:63],
	} {
		if _, err := dh(k, pub); !errors.Is(err, ErrBadPoint) {
			t.Errorf("dh with %s: err = %v, want ErrBadPoint", name, err)
		}
	}
}

func runHandshake(t *testing.T, v *jsHandshake, pattern Pattern) {
	t.Helper()
	icfg := &Config{Pattern: pattern, Initiator: true, Prologue: unhex(t, v.Prologue), StaticKey: seeded(1), EphemeralKey: seeded(3)}
	if pattern == IK {
		icfg.RemoteStaticKey = seeded(2)[32:]
	}
	ini, err := New(icfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := New(&Config{Pattern: pattern, Prologue: unhex(t, v.Prologue), StaticKey: seeded(2), EphemeralKey: seeded(4)})
	if err != nil {
		t.Fatal(err)
	}
	from, to := ini, res
	for i, m := range v.Messages {
		msg, err := from.WriteMessage(nil, unhex(t, m.Payload))
		if err != nil {
			t.Fatalf("message %d: WriteMessage: %v", i, err)
		}
		if got := hex.EncodeToString(msg); got != m.Message {
			t.Fatalf("message %d = %s, want %s", i, got, m.Message)
		}
		payload, err := to.ReadMessage(nil, msg)
		if err != nil {
			t.Fatalf("message %d: ReadMessage: %v", i, err)
		}
		if got := hex.EncodeToString(payload); got != m.Received {
			t.Fatalf("message %d payload = %s, want %s", i, got, m.Received)
		}
		from, to = to, from
	}
	ri, err := ini.Result()
	if err != nil {
		t.Fatal(err)
	}
	rr, err := res.Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"initiator hash", ri.Hash[:], v.Hash},
		{"responder hash", rr.Hash[:], v.Hash},
		{"initiator tx", ri.Tx[:], v.InitiatorTx},
		{"initiator rx", ri.Rx[:], v.InitiatorRx},
		{"responder tx", rr.Tx[:], v.ResponderTx},
		{"responder rx", rr.Rx[:], v.ResponderRx},
		{"initiator's remote key", ri.RemoteStaticKey[:], v.InitiatorRemote},
		{"responder's remote key", rr.RemoteStaticKey[:], v.ResponderRemote},
	} {
		if got := hex.EncodeToString(c.got); got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestXXVectors(t *testing.T) {
	v := loadVectors(t)
	t.Run("empty", func(t *testing.T) { runHandshake(t, &v.XX, XX) })
	t.Run("payloads", func(t *testing.T) { runHandshake(t, &v.XXPayload, XX) })
}

func TestIKVectors(t *testing.T) {
	runHandshake(t, &loadVectors(t).IK, IK)
}

func TestRandomEphemeralsAgree(t *testing.T) {
	for _, p := range []Pattern{XX, IK} {
		t.Run(p.String(), func(t *testing.T) {
			icfg := &Config{Pattern: p, Initiator: true, StaticKey: seeded(1)}
			if p == IK {
				icfg.RemoteStaticKey = seeded(2)[32:]
			}
			ini, _ := New(icfg)
			res, _ := New(&Config{Pattern: p, StaticKey: seeded(2)})
			from, to := ini, res
			for !ini.Complete() || !res.Complete() {
				msg, err := from.WriteMessage(nil, []byte("x"))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := to.ReadMessage(nil, msg); err != nil {
					t.Fatal(err)
				}
				from, to = to, from
			}
			a, _ := ini.Result()
			b, _ := res.Result()
			if a.Tx != b.Rx || a.Rx != b.Tx || a.Hash != b.Hash {
				t.Fatal("the two sides disagree on keys or hash")
			}
			if a.RemoteStaticKey != [32]byte(seeded(2)[32:]) || b.RemoteStaticKey != [32]byte(seeded(1)[32:]) {
				t.Fatal("wrong remote static keys")
			}
		})
	}
}

func TestBadMessages(t *testing.T) {
	newPair := func() (*HandshakeState, *HandshakeState) {
		ini, _ := New(&Config{Pattern: XX, Initiator: true, StaticKey: seeded(1)})
		res, _ := New(&Config{Pattern: XX, StaticKey: seeded(2)})
		return ini, res
	}
	t.Run("out of turn", func(t *testing.T) {
		ini, res := newPair()
		if _, err := res.WriteMessage(nil, nil); !errors.Is(err, ErrOutOfTurn) {
			t.Errorf("responder writing first: %v, want ErrOutOfTurn", err)
		}
		if _, err := ini.ReadMessage(nil, make([]byte, 32)); !errors.Is(err, ErrOutOfTurn) {
			t.Errorf("initiator reading first: %v, want ErrOutOfTurn", err)
		}
	})
	t.Run("short", func(t *testing.T) {
		_, res := newPair()
		if _, err := res.ReadMessage(nil, make([]byte, 31)); !errors.Is(err, ErrShortMessage) {
			t.Errorf("31-byte message 1: %v, want ErrShortMessage", err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		for i := range 96 {
			ini, res := newPair()
			m1, _ := ini.WriteMessage(nil, nil)
			res.ReadMessage(nil, m1)
			m2, _ := res.WriteMessage(nil, nil)
			m2[i] ^= 0x80
			if _, err := ini.ReadMessage(nil, m2); err == nil {
				t.Fatalf("flipping bit 7 of byte %d of message 2 went unnoticed", i)
			}
			if _, err := ini.WriteMessage(nil, nil); !errors.Is(err, ErrOutOfTurn) {
				t.Fatalf("after a failure, WriteMessage: %v, want ErrOutOfTurn", err)
			}
		}
	})
}
