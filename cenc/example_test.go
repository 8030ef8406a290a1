package cenc_test

import (
	"fmt"
	"net/netip"

	"github.com/gopear/gopear/cenc"
)

// A message of three fields, sized once, written into one allocation, and
// read back with one error check.
func Example() {
	name, peers := "hello", []netip.AddrPort{netip.MustParseAddrPort("1.2.3.4:49737")}
	addrs := cenc.Array(cenc.IPv4Address)

	b := make([]byte, 0, cenc.StringLen(name)+cenc.UintLen(42)+addrs.Len(peers))
	b = cenc.AppendString(b, name)
	b = cenc.AppendUint(b, 42)
	b = addrs.Append(b, peers)
	fmt.Printf("%x\n", b)

	d := cenc.NewDecoder(b)
	gotName, n, gotPeers := d.String(), d.Uint(), addrs.Decode(d)
	if err := d.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(gotName, n, gotPeers)
	// Output:
	// 0568656c6c6f2a010102030449c2
	// hello 42 [1.2.3.4:49737]
}

// Codec values compose: a frame around an array of strings.
func ExampleFrame() {
	c := cenc.Frame(cenc.Array[string](cenc.String))
	b := cenc.Encode(c, []string{"a", "hé"})
	fmt.Printf("%x\n", b)
	v, err := cenc.Decode(c, b)
	fmt.Println(v, err)
	// Output:
	// 070201610368c3a9
	// [a hé] <nil>
}
