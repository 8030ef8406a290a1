package hypercore

import (
	"bytes"
	"context"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gopear/gopear/secretstream"
)

// BenchmarkReplicate downloads a core of 20,000 blocks of 1 KiB from a
// writer to an empty reader over loopback TCP and secretstream, both
// cores on disk without syncing, as bench/replicate.go does at a smaller
// scale. The writer is built once; every iteration downloads into a new
// reader.
func BenchmarkReplicate(b *testing.B) {
	n := uint64(20_000)
	if v := envInt("GOPEAR_BENCH_BLOCKS"); v > 0 {
		n = uint64(v)
	}
	ctx := context.Background()
	w, err := Open(b.TempDir(), &Options{KeyPair: seedKeyPair(99), NoSync: true, MemTableSize: benchMemTable, CacheSize: benchCache})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	batch := make([][]byte, 0, 1000)
	for i := range int(n) {
		batch = append(batch, kib(i))
		if len(batch) == cap(batch) {
			if _, err := w.Append(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(n) * 1024)
	cpu0 := cpuTime()
	for b.Loop() {
		benchReplicateOnce(b, w, n)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N)/float64(n), "cpu-µs/block")
}

// cpuTime returns the process's user and system CPU time so far: on a
// shared machine it measures the work a download costs better than the
// wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	benchMemTable = uint64(envInt("GOPEAR_BENCH_MEMTABLE"))
	benchCache    = envInt("GOPEAR_BENCH_CACHE")
)

func envInt(k string) int64 {
	v, _ := strconv.ParseInt(os.Getenv(k), 10, 64)
	return v
}

// TestReplicateLargeBlocks downloads blocks of the largest size after
// runs of 1 MiB ones over secretstream: answers sent together in one
// protomux batch must still fit in one secretstream message.
func TestReplicateLargeBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 50 MB")
	}
	ctx := context.Background()
	w, err := Open(t.TempDir(), &Options{KeyPair: seedKeyPair(98), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var blocks [][]byte
	for i := range 40 {
		switch {
		case i%20 == 12:
			blocks = append(blocks, bytes.Repeat([]byte{byte(i)}, MaxBlockSize))
		case i%20 < 12:
			blocks = append(blocks, bytes.Repeat([]byte{byte(i)}, 1<<20))
		default:
			blocks = append(blocks, kib(i))
		}
	}
	if _, err := w.Append(ctx, blocks...); err != nil {
		t.Fatal(err)
	}
	r := benchReplicateOnce(t, w, w.Length())
	for i, want := range blocks {
		got, err := r.Get(ctx, uint64(i), &GetOptions{NoWait: true})
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("block %d: %d bytes, %v", i, len(got), err)
		}
	}
}

// benchReplicateOnce downloads w's first n blocks into a new reader over
// loopback TCP and secretstream and returns the reader, open until the
// test ends.
func benchReplicateOnce(b testing.TB, w *Core, n uint64) *Core {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := Open(b.TempDir(), &Options{Key: w.Key(), NoSync: true, MemTableSize: benchMemTable, CacheSize: benchCache})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		ss, err := secretstream.Server(ctx, conn, nil)
		if err != nil {
			served <- err
			return
		}
		mux, err := w.Replicate(ss)
		if err != nil {
			ss.Close()
			served <- err
			return
		}
		select {
		case <-mux.Done():
		case <-ctx.Done():
		}
		served <- mux.Close()
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	ss, err := secretstream.Client(ctx, conn, nil)
	if err != nil {
		b.Fatal(err)
	}
	mux, err := r.Replicate(ss)
	if err != nil {
		b.Fatal(err)
	}
	for r.Length() < n {
		if _, err := r.Update(ctx, nil); err != nil {
			b.Fatal(err)
		}
		if r.Length() < n {
			time.Sleep(time.Millisecond)
		}
	}
	if err := r.Download(ctx, Range{Start: 0, End: n}); err != nil {
		b.Fatal(err)
	}
	mux.Close()
	<-served
	return r
}
