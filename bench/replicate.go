package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/secretstream"
)

// The replication workloads copy a core of 110,000 blocks of 1 KiB from a
// writer to an empty reader over loopback TCP (secretstream + protomux +
// hypercore/alpha), the reader in a process of its own. Throughput is the
// block bytes over the time from the reader's dial to its download being
// complete (MB/s); memory is the reader process's peak resident set size
// (VmHWM, MB), for which lower is better. Both sides store on disk without
// syncing (JS's RocksDB does not sync; the Go cores run with NoSync).
//
// Go↔Go: the writer runs in this process, the reader in a child process
// (this binary re-executed with replReaderEnv set). JS↔JS:
// bench/js/replicate.js is the reader and starts the writer as a child
// node process. One run on each side gives both rows.

const (
	replBlocks    = 110_000
	replReaderEnv = "GOPEAR_BENCH_REPLICATE_READER"
)

func init() {
	runChild(replReaderEnv, "bench replicate reader", replReaderChild)
	registerTransfer("hypercore: replicate 110,000 x 1 KiB blocks over loopback TCP",
		"hypercore: replicate 110,000 x 1 KiB blocks, reader peak memory", replGo, replJS)
}

// runChild runs fn and exits when the environment variable env is set: the
// Go side of a transfer workload re-executes the bench binary as its
// receiving process, so that the process's peak memory is its own.
func runChild(env, what string, fn func() error) {
	if os.Getenv(env) == "" {
		return
	}
	if err := fn(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runChildProcess re-executes the bench binary with env added to its
// environment (one of them selecting the child's role, see runChild) and
// returns the replResult the child prints; what names the child in errors.
func runChildProcess(ctx context.Context, what string, env ...string) (replResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return replResult{}, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := runCmd(ctx, cmd); err != nil {
		return replResult{}, fmt.Errorf("%s: %v: %s", what, err, stderr.String())
	}
	var res replResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return replResult{}, fmt.Errorf("%s printed %q: %v", what, stdout.String(), err)
	}
	return res, nil
}

// registerTransfer registers the two rows of a transfer workload that one
// run per side measures: the rate (MB/s, goal 10x) and the receiving
// process's peak memory (lower is better, goal 4x).
func registerTransfer(name, memoryName string, goSide, jsSide *replRun) {
	register(workload{
		name:  name,
		unit:  "MB/s",
		goal:  10,
		goRun: func(ctx context.Context) (float64, error) { r, err := goSide.get(ctx); return r.MBps, err },
		jsRun: func(ctx context.Context) (float64, error) { r, err := jsSide.get(ctx); return r.MBps, err },
	})
	register(workload{
		name:          memoryName,
		unit:          "MB peak RSS",
		goal:          4,
		lowerIsBetter: true,
		goRun:         func(ctx context.Context) (float64, error) { r, err := goSide.get(ctx); return r.RSSMB, err },
		jsRun:         func(ctx context.Context) (float64, error) { r, err := jsSide.get(ctx); return r.RSSMB, err },
	})
}

// replResult is what a reader reports.
type replResult struct {
	MBps  float64 `json:"value"` // block bytes per second / 1e6
	RSSMB float64 `json:"rss"`   // VmHWM / 1e6
}

// replRun runs one side once and gives the result to both workloads.
type replRun struct {
	mu   sync.Mutex
	done bool
	res  replResult
	err  error
	run  func(ctx context.Context) (replResult, error)
}

func (r *replRun) get(ctx context.Context) (replResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done {
		r.res, r.err = r.run(ctx)
		r.done = true
	}
	return r.res, r.err
}

var (
	replGo = &replRun{run: benchReplicateGo}
	replJS = &replRun{run: benchReplicateJS}
)

func benchReplicateJS(ctx context.Context) (replResult, error) {
	return runJSTransfer(ctx, "bench/js/replicate.js", strconv.Itoa(replBlocks))
}

// runJSTransfer runs the JS side of a transfer workload, node script
// with args (script is relative to the repository root), and returns the
// replResult it prints.
func runJSTransfer(ctx context.Context, script string, args ...string) (replResult, error) {
	root, err := jsref.Root()
	if err != nil {
		return replResult{}, err
	}
	cmd, err := jsref.Command(filepath.Join(root, script), args...)
	if err != nil {
		return replResult{}, err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := runCmd(ctx, cmd); err != nil {
		return replResult{}, fmt.Errorf("node %s: %v: %s", script, err, stderr.String())
	}
	var res replResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return replResult{}, fmt.Errorf("node %s printed %q: %v", script, stdout.String(), err)
	}
	return res, nil
}

func benchReplicateGo(ctx context.Context) (replResult, error) {
	dir, err := os.MkdirTemp("", "gopear-bench-replicate-")
	if err != nil {
		return replResult{}, err
	}
	defer os.RemoveAll(dir)
	var seed [32]byte
	for i := range seed {
		seed[i] = 98
	}
	kp := hcrypto.KeyPairFromSeed(seed)
	w, err := hypercore.Open(filepath.Join(dir, "writer"), &hypercore.Options{KeyPair: &kp, NoSync: true})
	if err != nil {
		return replResult{}, err
	}
	defer w.Close()
	batch := make([][]byte, 0, 1000)
	for i := range replBlocks {
		batch = append(batch, kibBlock(i))
		if len(batch) == cap(batch) || i == replBlocks-1 {
			if _, err := w.Append(ctx, batch...); err != nil {
				return replResult{}, err
			}
			batch = batch[:0]
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return replResult{}, err
	}
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		ln.Close()
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
		case <-mux.Done(): // the reader hung up
		case <-ctx.Done():
		}
		served <- mux.Close()
	}()
	defer func() {
		ln.Close()
		<-served
	}()

	key := w.Key()
	return runChildProcess(ctx, "reader",
		replReaderEnv+"=1",
		"GOPEAR_BENCH_REPLICATE_ADDR="+ln.Addr().String(),
		"GOPEAR_BENCH_REPLICATE_KEY="+hex.EncodeToString(key[:]),
		"GOPEAR_BENCH_REPLICATE_DIR="+filepath.Join(dir, "reader"),
		"GOPEAR_BENCH_REPLICATE_BLOCKS="+strconv.Itoa(replBlocks),
	)
}

// replReaderChild is the Go reader: it downloads the whole core from the
// writer at GOPEAR_BENCH_REPLICATE_ADDR into a core of its own and prints
// its replResult.
func replReaderChild() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	kb, err := hex.DecodeString(os.Getenv("GOPEAR_BENCH_REPLICATE_KEY"))
	if err != nil || len(kb) != 32 {
		return fmt.Errorf("bad key %q", os.Getenv("GOPEAR_BENCH_REPLICATE_KEY"))
	}
	n, err := strconv.ParseUint(os.Getenv("GOPEAR_BENCH_REPLICATE_BLOCKS"), 10, 64)
	if err != nil {
		return err
	}
	r, err := hypercore.Open(os.Getenv("GOPEAR_BENCH_REPLICATE_DIR"), &hypercore.Options{Key: hypercore.Key(kb), NoSync: true})
	if err != nil {
		return err
	}
	defer r.Close()

	start := time.Now()
	conn, err := net.Dial("tcp", os.Getenv("GOPEAR_BENCH_REPLICATE_ADDR"))
	if err != nil {
		return err
	}
	ss, err := secretstream.Client(ctx, conn, nil)
	if err != nil {
		return err
	}
	mux, err := r.Replicate(ss)
	if err != nil {
		ss.Close()
		return err
	}
	defer mux.Close()
	for r.Length() < n {
		if _, err := r.Update(ctx, nil); err != nil {
			return err
		}
		if r.Length() < n {
			time.Sleep(time.Millisecond)
		}
	}
	if err := r.Download(ctx, hypercore.Range{Start: 0, End: n}); err != nil {
		return err
	}
	elapsed := time.Since(start)
	for _, i := range []uint64{0, n / 2, n - 1} {
		b, err := r.Get(ctx, i, &hypercore.GetOptions{NoWait: true})
		if err != nil {
			return err
		}
		if !bytes.Equal(b, kibBlock(int(i))) {
			return fmt.Errorf("block %d differs", i)
		}
	}
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	res := replResult{MBps: float64(n) * 1024 / elapsed.Seconds() / 1e6, RSSMB: float64(hwm) / 1e6}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM).
func peakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}
