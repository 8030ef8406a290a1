package cenc

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func BenchmarkAppendUint(b *testing.B) {
	for _, v := range []uint64{0xfc, 0xffff, 0xffffffff, MaxSafeInteger} {
		b.Run(fmt.Sprintf("len=%d", UintLen(v)), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 9)
			for b.Loop() {
				buf = AppendUint(buf[:0], v)
			}
		})
	}
}

func BenchmarkDecodeUint(b *testing.B) {
	in := AppendUint(nil, 0xffffffff)
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		d.Reset(in)
		_ = d.Uint()
	}
}

func BenchmarkString(b *testing.B) {
	for _, s := range []string{"protomux", strings.Repeat("é", 100), "bad\xffutf8"} {
		in := AppendString(nil, s)
		b.Run(fmt.Sprintf("append/len=%d", len(s)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			buf := make([]byte, 0, len(in))
			for b.Loop() {
				buf = AppendString(buf[:0], s)
			}
		})
		b.Run(fmt.Sprintf("decode/len=%d", len(s)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			var d Decoder
			for b.Loop() {
				d.Reset(in)
				_ = d.String()
			}
		})
	}
}

func BenchmarkBuffer(b *testing.B) {
	for _, n := range []int{32, 4096, 65536} {
		p := make([]byte, n)
		in := AppendBuffer(nil, p)
		b.Run(fmt.Sprintf("append/len=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			buf := make([]byte, 0, len(in))
			for b.Loop() {
				buf = AppendBuffer(buf[:0], p)
			}
		})
		b.Run(fmt.Sprintf("decode/len=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			var d Decoder
			for b.Loop() {
				d.Reset(in)
				_ = d.Buffer()
			}
		})
	}
}

// BenchmarkMessage encodes and decodes a dht-rpc-like message: a few
// varints, a 32-byte id, an address and a list of addresses.
func BenchmarkMessage(b *testing.B) {
	id := [32]byte{1}
	to := netip.MustParseAddrPort("10.1.2.3:49737")
	nodes := make([]netip.AddrPort, 20)
	for i := range nodes {
		nodes[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), uint16(40000+i))
	}
	addrs := Array(IPv4Address)
	size := 1 + 2 + 6 + 32 + UintLen(3) + addrs.Len(nodes)
	enc := func(buf []byte) []byte {
		buf = AppendUint8(buf, 0x13)
		buf = AppendUint16(buf, 4242)
		buf = AppendIPv4Address(buf, to)
		buf = append(buf, id[:]...)
		buf = AppendUint(buf, 3)
		return addrs.Append(buf, nodes)
	}
	in := enc(nil)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size))
		buf := make([]byte, 0, size)
		for b.Loop() {
			buf = enc(buf[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(size))
		var d Decoder
		for b.Loop() {
			d.Reset(in)
			_, _, _, _, _ = d.Uint8(), d.Uint16(), d.IPv4Address(), d.Fixed32(), d.Uint()
			_ = addrs.Decode(&d)
			if d.Err() != nil {
				b.Fatal(d.Err())
			}
		}
	})
}

func BenchmarkAny(b *testing.B) {
	v := []Entry[any]{{"name", "x"}, {"n", uint64(300)}, {"list", []any{true, nil, 1.5}}}
	in := AppendAny(nil, v)
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, len(in))
		for b.Loop() {
			buf = AppendAny(buf[:0], v)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		var d Decoder
		for b.Loop() {
			d.Reset(in)
			_ = d.Any()
		}
	})
}
