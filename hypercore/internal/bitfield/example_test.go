package bitfield_test

import (
	"fmt"

	"github.com/gopear/gopear/hypercore/internal/bitfield"
)

func Example() {
	b := bitfield.New()
	b.SetRange(0, 10, true)
	b.Set(40, true)
	b.Set(41, true)

	first, _ := b.FirstUnset(0)
	fmt.Println("contiguous:", b.ContiguousLength(), "first unset:", first)
	for r := range b.Ranges(0) {
		fmt.Println("have", r.Start, "to", r.End)
	}
	// The bitfield wire message: bit j of word w is block start+32w+j.
	words, _ := b.AppendWords(nil, 32, 1)
	fmt.Printf("word at 32: %#x\n", words[0])
	// Output:
	// contiguous: 10 first unset: 10
	// have 0 to 10
	// have 40 to 42
	// word at 32: 0x300
}
