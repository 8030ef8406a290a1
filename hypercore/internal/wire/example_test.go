package wire_test

import (
	"fmt"

	"github.com/gopear/gopear/hypercore/internal/wire"
)

// A range message of length 1 carries the length in its flags.
func Example() {
	b := wire.Encode(&wire.Range{Start: 10, Length: 1})
	fmt.Printf("%x\n", b)
	m, err := wire.Parse(wire.TypeRange, b)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %+v\n", m.Type(), m)
	// Output:
	// 020a
	// range &{Drop:false Start:10 Length:1}
}
