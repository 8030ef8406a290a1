package z32_test

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/z32"
)

type jsResult struct {
	Hex        *string `json:"hex"`
	Normalized string  `json:"normalized"`
	Valid      bool    `json:"valid"`
	Error      string  `json:"error"`
}

type request struct {
	Encode []string `json:"encode"`
	Decode []string `json:"decode"`
	IDs    []string `json:"ids"`
}

type response struct {
	Encode []string   `json:"encode"`
	Decode []jsResult `json:"decode"`
	IDs    []jsResult `json:"ids"`
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// randZ32 returns n characters, nearly all from the alphabet; with
// probability bad each is some other character instead.
func randZ32(r *rand.Rand, n int, bad float64) string {
	const others = "YBNDR0lv2=_ -/:.\x00\x7fé✓Zz"
	var sb strings.Builder
	for range n {
		if r.Float64() < bad {
			o := []rune(others)
			sb.WriteRune(o[r.IntN(len(o))])
		} else {
			sb.WriteByte(z32.Alphabet[r.IntN(32)])
		}
	}
	return sb.String()
}

func TestInterop(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var req request
	var inputs [][]byte
	for n := range 70 {
		inputs = append(inputs, randBytes(r, n))
	}
	inputs = append(inputs, make([]byte, 32), []byte(strings.Repeat("\xff", 32)), []byte("hi"))
	for _, b := range inputs {
		req.Encode = append(req.Encode, hex.EncodeToString(b))
	}

	// Every length from 0 to 80, valid and not, and the same with every
	// character of the alphabet in the last position (trailing bits).
	for n := range 81 {
		req.Decode = append(req.Decode, randZ32(r, n, 0), randZ32(r, n, 0.05))
	}
	for _, c := range z32.Alphabet {
		for _, n := range []int{1, 2, 3, 6, 8, 52} {
			req.Decode = append(req.Decode, randZ32(r, n-1, 0)+string(c))
		}
	}
	req.Decode = append(req.Decode, "", "y", "Y", "é", "ybndrfg8ejkmcpqxot1uwisza345h769")

	// Keys in every form hypercore-id-encoding sees, and near misses.
	for range 10 {
		key := [32]byte(randBytes(r, 32))
		zs := z32.Encode(key)
		hx := hex.EncodeToString(key[:])
		req.IDs = append(req.IDs,
			zs, hx, strings.ToUpper(hx), "pear://"+zs, "pear://"+zs+"/", "pear://"+zs+"/some/path",
			"pear://"+hx+"/x", "pear://"+zs[:51], zs[:51], zs+"y", hx[:63], hx+"0",
			hx[:62]+"zz", hx[:63]+"g", randZ32(r, 51, 0)+"!", strings.ToUpper(zs), " "+zs[1:],
			"pear:/"+zs, "PEAR://"+zs, "pear://pear://"+zs, "pear://", "",
			zs[:51]+string(z32.Alphabet[r.IntN(32)]),
			hx[:30]+"é"+hx[32:], "1"+hx[:30]+"é"+hx[32:],
		)
	}

	var resp response
	jsref.JSON(t, req, &resp, "z32/z32.js")

	for i, b := range inputs {
		if got, want := z32.EncodeToString(b), resp.Encode[i]; got != want {
			t.Errorf("EncodeToString(%x) = %q, want %q", b, got, want)
		}
		if len(b) == 32 {
			if got, want := z32.Encode([32]byte(b)), resp.Encode[i]; got != want {
				t.Errorf("Encode(%x) = %q, want %q", b, got, want)
			}
		}
	}
	for i, s := range req.Decode {
		js := resp.Decode[i]
		got, err := z32.DecodeString(s)
		switch {
		case js.Hex == nil && err == nil:
			t.Errorf("DecodeString(%q) = %x, JS fails: %s", s, got, js.Error)
		case js.Hex != nil && err != nil:
			t.Errorf("DecodeString(%q) fails (%v), JS gives %s", s, err, *js.Hex)
		case js.Hex != nil && hex.EncodeToString(got) != *js.Hex:
			t.Errorf("DecodeString(%q) = %x, want %s", s, got, *js.Hex)
		}
	}
	for i, s := range req.IDs {
		js := resp.IDs[i]
		got, err := z32.Decode(s)
		switch {
		case js.Hex == nil && err == nil:
			t.Errorf("Decode(%q) = %x, JS fails: %s", s, got, js.Error)
		case js.Hex != nil && err != nil:
			t.Errorf("Decode(%q) fails (%v), JS gives %s", s, err, *js.Hex)
		case js.Hex != nil && hex.EncodeToString(got[:]) != *js.Hex:
			t.Errorf("Decode(%q) = %x, want %s", s, got, *js.Hex)
		}
		if z32.IsValid(s) != js.Valid {
			t.Errorf("IsValid(%q) = %v, want %v", s, !js.Valid, js.Valid)
		}
		if n, err := z32.Normalize(s); err == nil && n != js.Normalized {
			t.Errorf("Normalize(%q) = %q, want %q", s, n, js.Normalized)
		}
	}
}
