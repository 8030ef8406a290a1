package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/secretstream"
)

// The secretstream workloads push bulk data one way through a secret stream
// over loopback TCP, in 64 KiB writes (one message each), and report MB/s
// from the end of the handshake to the receiver seeing the end of the
// stream. Go↔Go runs both ends in this process, as bench/js/secretstream.js
// (pair) runs both in one node process. The Go↔JS workloads put node on the
// other end (bench/js/secretstream.js send / recv) and are compared with
// the same JS↔JS figure, which is measured once per run.

const (
	ssGoSize = 1 << 30   // bytes per Go↔Go run
	ssJSSize = 256 << 20 // bytes per run with node on either end
	ssChunk  = 64 << 10
)

func init() {
	register(workload{
		name:  "secretstream: throughput Go↔Go vs JS↔JS (loopback TCP, 64 KiB messages)",
		unit:  "MB/s",
		goal:  3,
		goRun: benchSecretstreamGoGo,
		jsRun: ssJSPair,
	})
	register(workload{
		name:  "secretstream: throughput Go→JS vs JS↔JS (loopback TCP, 64 KiB messages)",
		unit:  "MB/s",
		goRun: func(ctx context.Context) (float64, error) { return benchSecretstreamGoJS(ctx, true) },
		jsRun: ssJSPair,
	})
	register(workload{
		name:  "secretstream: throughput JS→Go vs JS↔JS (loopback TCP, 64 KiB messages)",
		unit:  "MB/s",
		goRun: func(ctx context.Context) (float64, error) { return benchSecretstreamGoJS(ctx, false) },
		jsRun: ssJSPair,
	})
}

var (
	ssJSOnce  sync.Once
	ssJSValue float64
	ssJSErr   error
)

// ssJSPair measures JS↔JS once and returns that figure to every workload.
func ssJSPair(ctx context.Context) (float64, error) {
	ssJSOnce.Do(func() {
		ssJSValue, ssJSErr = runJS(ctx, "bench/js/secretstream.js", "pair", fmt.Sprint(ssJSSize))
	})
	return ssJSValue, ssJSErr
}

func benchSecretstreamGoGo(ctx context.Context) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	type result struct {
		c   *secretstream.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		tcp, err := l.Accept()
		if err != nil {
			accepted <- result{err: err}
			return
		}
		c, err := secretstream.Server(ctx, tcp, nil)
		accepted <- result{c, err}
	}()
	tcp, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, err
	}
	client, err := secretstream.Client(ctx, tcp, nil)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	r := <-accepted
	if r.err != nil {
		return 0, r.err
	}
	server := r.c
	defer server.Close()

	start := time.Now()
	sendErr := make(chan error, 1)
	go func() { sendErr <- ssSend(client, ssGoSize) }()
	n, err := io.CopyBuffer(io.Discard, server, make([]byte, ssChunk))
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if err := <-sendErr; err != nil {
		return 0, err
	}
	if n != ssGoSize {
		return 0, fmt.Errorf("received %d bytes, want %d", n, ssGoSize)
	}
	return float64(n) / 1e6 / elapsed.Seconds(), nil
}

// ssSend writes size bytes in ssChunk writes and ends the stream.
func ssSend(c *secretstream.Conn, size int) error {
	buf := make([]byte, ssChunk)
	for i := range buf {
		buf[i] = byte(i)
	}
	for left := size; left > 0; {
		n := min(left, len(buf))
		if _, err := c.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	return c.CloseWrite()
}

// benchSecretstreamGoJS runs Go as the initiator against node: Go sends and
// node receives when goSends, and the reverse otherwise.
func benchSecretstreamGoJS(ctx context.Context, goSends bool) (float64, error) {
	root, err := jsref.Root()
	if err != nil {
		return 0, err
	}
	mode := "send"
	if goSends {
		mode = "recv"
	}
	cmd, err := jsref.Command(filepath.Join(root, "bench/js/secretstream.js"), mode, fmt.Sprint(ssJSSize))
	if err != nil {
		return 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	var hello struct {
		Port  int   `json:"port"`
		Bytes int64 `json:"bytes"`
	}
	readLine := func() error {
		if !lines.Scan() {
			return fmt.Errorf("node %s exited early: %v", mode, lines.Err())
		}
		return json.Unmarshal(lines.Bytes(), &hello)
	}
	if err := readLine(); err != nil {
		return 0, err
	}
	tcp, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hello.Port))
	if err != nil {
		return 0, err
	}
	c, err := secretstream.Client(ctx, tcp, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()

	start := time.Now()
	var n int64
	if goSends {
		if err := ssSend(c, ssJSSize); err != nil {
			return 0, err
		}
		if err := readLine(); err != nil { // node prints {bytes} at the end
			return 0, err
		}
		n = hello.Bytes
	} else {
		if n, err = io.CopyBuffer(io.Discard, c, make([]byte, ssChunk)); err != nil {
			return 0, err
		}
	}
	elapsed := time.Since(start)
	if n != ssJSSize {
		return 0, fmt.Errorf("%d bytes arrived, want %d", n, ssJSSize)
	}
	return float64(n) / 1e6 / elapsed.Seconds(), nil
}
