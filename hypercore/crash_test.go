package hypercore

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

var long = flag.Bool("long", false, "run the crash test for 1000 rounds")

// crashChildEnv names the directory the re-executed test binary appends
// in (see crashChild); crashSeedEnv seeds its choices.
const (
	crashChildEnv = "GOPEAR_HYPERCORE_CRASH_DIR"
	crashSeedEnv  = "GOPEAR_HYPERCORE_CRASH_SEED"
)

// crashBlock returns block i as the crash child appends it at fork.
func crashBlock(i, fork uint64, size int) []byte {
	b := []byte(fmt.Sprintf("%d:%d:", i, fork))
	for len(b) < size {
		b = append(b, byte(i+uint64(len(b))))
	}
	return b
}

// crashChild runs in the re-executed test binary: it opens the core in
// $GOPEAR_HYPERCORE_CRASH_DIR and appends (sometimes truncates) through
// the public API forever, printing "fork length" after each change is
// acknowledged, until the parent kills it.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 2))
	c, err := Open(dir, &Options{KeyPair: seedKeyPair(42)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	out := bufio.NewWriter(os.Stdout)
	for {
		length := c.Length()
		if length > 10 && rng.IntN(20) == 0 {
			if err := c.Truncate(ctx, length-1-uint64(rng.IntN(10)), nil); err != nil {
				fmt.Fprintln(os.Stderr, "truncate:", err)
				os.Exit(2)
			}
		} else {
			n := 1 + rng.IntN(8)
			blocks := make([][]byte, n)
			for i := range blocks {
				blocks[i] = crashBlock(length+uint64(i), c.Fork(), 10+rng.IntN(2000))
			}
			if _, err := c.Append(ctx, blocks...); err != nil {
				fmt.Fprintln(os.Stderr, "append:", err)
				os.Exit(2)
			}
		}
		fmt.Fprintf(out, "%d %d\n", c.Fork(), c.Length())
		out.Flush()
	}
}

// TestCrash kills a process appending to a core at random moments
// (SIGKILL) and checks after each kill that the core reopens with every
// acknowledged change (and at most the one in progress), that its stored
// nodes hash to the stored head, that the signature verifies and that
// every block matches its leaf.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	rounds := 20
	if *long {
		rounds = 1000
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	var ackFork, ackLength uint64
	var dir string
	for round := range rounds {
		if round%50 == 0 {
			// A fresh core every 50 rounds keeps each check (which reads
			// every block) bounded in long runs.
			dir = filepath.Join(base, strconv.Itoa(round))
			ackFork, ackLength = 0, 0
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashSeedEnv+"="+strconv.FormatUint(rng.Uint64(), 10))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read acknowledgements until the kill.
		lines := make(chan [2]uint64, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var f, l uint64
				if _, err := fmt.Sscanf(sc.Text(), "%d %d", &f, &l); err == nil {
					lines <- [2]uint64{f, l}
				}
			}
		}()
		kill := time.After(time.Duration(5+rng.IntN(120)) * time.Millisecond)
		killed := false
		for !killed {
			select {
			case a, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child exited: %v\n%s", round, cmd.Wait(), stderr.String())
				}
				ackFork, ackLength = a[0], a[1]
			case <-kill:
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		for a := range lines {
			ackFork, ackLength = a[0], a[1] // printed before the kill
		}
		cmd.Wait()

		// With the child's key pair: a child killed before it created the
		// core leaves an empty store, where Open(dir, nil) would make a
		// core of its own.
		c, err := Open(dir, &Options{KeyPair: seedKeyPair(42)})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		fork, length := c.Fork(), c.Length()
		switch {
		case fork == ackFork && length >= ackLength:
			// The acknowledged state, or an append in progress on top.
		case fork == ackFork+1 && length < ackLength:
			// A truncation in progress.
		default:
			c.Close()
			t.Fatalf("round %d: reopened at fork %d length %d, last acknowledged fork %d length %d", round, fork, length, ackFork, ackLength)
		}
		checkVerifies(t, c)
		for i := range length {
			b, err := c.Get(context.Background(), i, &GetOptions{NoWait: true})
			if err != nil || !bytes.HasPrefix(b, []byte(fmt.Sprintf("%d:", i))) {
				c.Close()
				t.Fatalf("round %d: block %d = %.20q %v", round, i, b, err)
			}
		}
		ackFork, ackLength = fork, length
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rounds, final fork %d length %d", rounds, ackFork, ackLength)
}
