package protomux

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/gopear/gopear/cenc"
)

// BenchmarkMessages sends messages on one channel between two muxes over a
// Pipe and waits until the receiving handler has seen them all.
func BenchmarkMessages(b *testing.B) {
	for _, size := range []int{32, 1024} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			sa, sb := Pipe()
			sender, receiver := New(sa, nil), New(sb, nil)
			defer sender.Close()
			defer receiver.Close()
			var count atomic.Int64
			done := make(chan struct{})
			receiver.Pair("bench", nil, func(id []byte) {
				ch, _ := receiver.CreateChannel(ChannelOptions{Protocol: "bench"})
				AddMessage(ch, cenc.Raw, func([]byte) error {
					if count.Add(1) == int64(b.N) {
						close(done)
					}
					return nil
				})
				ch.Open(nil)
			})
			ch, _ := sender.CreateChannel(ChannelOptions{Protocol: "bench"})
			msg := AddMessage(ch, cenc.Raw, nil)
			ch.Open(nil)
			ctx := context.Background()
			if err := ch.WaitOpen(ctx); err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				msg.Send(payload)
				if i%1024 == 1023 {
					sender.WaitDrained(ctx)
				}
			}
			<-done
		})
	}
}
