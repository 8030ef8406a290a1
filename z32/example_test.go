package z32_test

import (
	"fmt"

	"github.com/gopear/gopear/z32"
)

func ExampleEncodeToString() {
	fmt.Println(z32.EncodeToString([]byte("hi")))
	b, _ := z32.DecodeString("pbwo")
	fmt.Printf("%s\n", b)
	// Output:
	// pbwo
	// hi
}

// A key written as a Pear link, as hex or as z-base-32 decodes to the same
// 32 bytes.
func ExampleDecode() {
	link := "pear://5db4ysm3yq3e47ehpafznb5zmahe7tpd37ujzze6x5nbznhxp33y/index.html"
	key, err := z32.Decode(link)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", key)
	same, _ := z32.Decode(fmt.Sprintf("%x", key))
	fmt.Println(z32.Encode(same))
	// Output:
	// d8c3a0597903b28d751c6e0b7107775e388ec5a3cf669bdd1e7ec41b8b8f6e72
	// 5db4ysm3yq3e47ehpafznb5zmahe7tpd37ujzze6x5nbznhxp33y
}
