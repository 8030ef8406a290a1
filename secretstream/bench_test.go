package secretstream

import (
	"fmt"
	"io"
	"testing"
)

// BenchmarkThroughput sends one way over a pair, in writes of the given
// size (each one message).
func BenchmarkThroughput(b *testing.B) {
	for _, tr := range []struct {
		name string
		pair func(testing.TB, *Options, *Options) (*Conn, *Conn)
	}{{"tcp", tcpPair}, {"pipe", pipePair}} {
		for _, size := range []int{1 << 10, 64 << 10, 64<<10 - 1} {
			b.Run(fmt.Sprintf("%s/%d", tr.name, size), func(b *testing.B) {
				client, server := tr.pair(b, nil, nil)
				done := make(chan error, 1)
				go func() {
					_, err := io.CopyBuffer(io.Discard, server, make([]byte, 64<<10))
					done <- err
				}()
				buf := make([]byte, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := client.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
				client.Close()
				<-done
			})
		}
	}
}
