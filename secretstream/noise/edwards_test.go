package noise

import (
	"encoding/hex"

	"filippo.io/edwards25519"
)

type edwardsPoint = edwards25519.Point

func unhexT(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
