package noise

import "testing"

// FuzzReadMessage reads arbitrary bytes as each message of XX and IK, at
// the stage where it is due, with pinned keys. It must fail or succeed,
// never panic, and a failure must stop the handshake.
func FuzzReadMessage(f *testing.F) {
	ini, _ := New(&Config{Pattern: XX, Initiator: true, StaticKey: seeded(1), EphemeralKey: seeded(3)})
	res, _ := New(&Config{Pattern: XX, StaticKey: seeded(2), EphemeralKey: seeded(4)})
	m1, _ := ini.WriteMessage(nil, nil)
	res.ReadMessage(nil, m1)
	m2, _ := res.WriteMessage(nil, nil)
	ini.ReadMessage(nil, m2)
	m3, _ := ini.WriteMessage(nil, []byte("payload"))
	for i, m := range [][]byte{m1, m2, m3} {
		f.Add(byte(i), m)
	}
	f.Add(byte(3), []byte{})
	f.Add(byte(1), make([]byte, 96))
	f.Fuzz(func(t *testing.T, stage byte, msg []byte) {
		var hs *HandshakeState
		switch stage % 4 {
		case 0: // responder reads XX message 1
			hs, _ = New(&Config{Pattern: XX, StaticKey: seeded(2), EphemeralKey: seeded(4)})
		case 1: // initiator reads XX message 2
			hs, _ = New(&Config{Pattern: XX, Initiator: true, StaticKey: seeded(1), EphemeralKey: seeded(3)})
			hs.WriteMessage(nil, nil)
		case 2: // responder reads XX message 3
			hs, _ = New(&Config{Pattern: XX, StaticKey: seeded(2), EphemeralKey: seeded(4)})
			hs.ReadMessage(nil, m1)
			hs.WriteMessage(nil, nil)
		case 3: // IK responder reads message 1
			hs, _ = New(&Config{Pattern: IK, StaticKey: seeded(2), EphemeralKey: seeded(4)})
		}
		_, err := hs.ReadMessage(nil, msg)
		if err != nil {
			if _, err2 := hs.WriteMessage(nil, nil); err2 != ErrOutOfTurn {
				t.Fatalf("after a failed read, WriteMessage = %v, want ErrOutOfTurn", err2)
			}
		}
	})
}
