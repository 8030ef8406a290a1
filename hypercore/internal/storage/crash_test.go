package storage

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

var long = flag.Bool("long", false, "run the crash tests for many more rounds")

// dump returns a digest of every key and value in the DB.
func dump(t testing.TB, db *DB) [32]byte {
	t.Helper()
	it, err := db.pdb.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	h := sha256.New()
	var l [8]byte
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			t.Fatal(err)
		}
		binary.BigEndian.PutUint64(l[:], uint64(len(it.Key())))
		h.Write(l[:])
		h.Write(it.Key())
		binary.BigEndian.PutUint64(l[:], uint64(len(v)))
		h.Write(l[:])
		h.Write(v)
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// TestCrashClone commits a random sequence of appends and truncates on a
// crashable in-memory file system while crash clones are taken at random
// moments (pebble's vfs.MemFS.CrashClone keeps what was synced and a random
// part of what was not). Each clone, reopened, must hold exactly the state
// after some whole batch: with Sync, a batch acknowledged before the clone
// began is never lost; with NoSync, only a prefix is promised.
func TestCrashClone(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("nosync=%v", noSync), func(t *testing.T) {
			rounds := 8
			if raceEnabled || testing.Short() {
				rounds = 2
			}
			if *long {
				rounds = 200
			}
			var clones, between int
			for round := range rounds {
				c, b := crashCloneRound(t, uint64(round), noSync, false)
				clones, between = clones+c, between+b
			}
			t.Logf("%d rounds, %d crash clones verified, %d of them taken while a batch was committing", rounds, clones, between)
		})
	}
}

// TestCrashCloneFlushes is TestCrashClone with the memtable flushed every
// few batches, so that crash clones catch sstables and blob files (value
// separation: blocks and bitfield pages of 512 bytes and more) being
// written and installed, not only the WAL.
func TestCrashCloneFlushes(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("nosync=%v", noSync), func(t *testing.T) {
			rounds := 6
			if raceEnabled || testing.Short() {
				rounds = 2
			}
			if *long {
				rounds = 100
			}
			var clones int
			for round := range rounds {
				c, _ := crashCloneRound(t, 1000+uint64(round), noSync, true)
				clones += c
			}
			t.Logf("%d rounds, %d crash clones verified", rounds, clones)
		})
	}
}

// crashCloneRound runs one sequence and returns how many clones it checked
// and how many of those were taken while a commit was in flight.
// With flush, the writer flushes the memtable after every few batches.
func crashCloneRound(t *testing.T, seed uint64, noSync, flush bool) (clones, between int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	fs := vfs.NewCrashableMem()
	db, err := Open("db", &Options{FS: fs, NoSync: noSync})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := openAppender(db, 1)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		states = [][32]byte{dump(t, db)} // states[k]: after k batches
	)
	var started, acked atomic.Int64
	steps := 40 + rng.IntN(40)
	wrng := rand.New(rand.NewPCG(seed, 8))
	done := make(chan error, 1)
	go func() {
		for k := 1; k <= steps; k++ {
			started.Store(int64(k))
			var err error
			if wrng.IntN(6) == 0 && a.head.Length > 0 {
				err = a.truncate(wrng.Uint64N(a.head.Length)) // always cuts something
			} else {
				err = a.append(1 + wrng.IntN(40))
			}
			if err == nil && flush && k%5 == 0 {
				err = db.pdb.Flush()
			}
			if err != nil {
				done <- err
				return
			}
			d := dump(t, db)
			mu.Lock()
			states = append(states, d)
			mu.Unlock()
			acked.Store(int64(k))
		}
		done <- nil
	}()

	type clone struct {
		fs       *vfs.MemFS
		min, max int64
	}
	var taken []clone
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		case <-time.After(time.Duration(rng.IntN(3000)) * time.Microsecond):
		}
		lo := acked.Load()
		c := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(rng.Uint64(), 0))})
		hi := started.Load()
		if noSync {
			lo = 0
		}
		if hi > acked.Load() {
			between++
		}
		taken = append(taken, clone{c, lo, hi})
	}
	if flush {
		names, err := fs.List("db")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, ".blob") }) {
			t.Fatalf("seed %d: flushes wrote no blob file (value separation is off?): %v", seed, names)
		}
	}
	for _, c := range taken {
		cdb, err := Open("db", &Options{FS: c.fs})
		if err != nil {
			t.Fatalf("seed %d: reopen clone: %v", seed, err)
		}
		d := dump(t, cdb)
		found := -1
		mu.Lock()
		for k := c.min; k <= c.max && int(k) < len(states); k++ {
			if states[k] == d {
				found = int(k)
			}
		}
		mu.Unlock()
		if found < 0 {
			t.Fatalf("seed %d: clone taken between batches %d and %d matches none of them (partial or lost batch)", seed, c.min, c.max)
		}
		if found > 0 {
			core, err := cdb.FindCore(a.c.DiscoveryKey())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verifyCore(core); err != nil {
				t.Fatalf("seed %d: clone at batch %d: %v", seed, found, err)
			}
		}
		cdb.Close()
	}
	return len(taken), between
}

// The real-process crash test: the test binary re-executes itself as a
// child that appends to a store on disk, printing each acknowledged length;
// the parent kills it with SIGKILL at a random moment and checks the store.

const (
	crashChildEnv = "GOPEAR_STORAGE_CRASH_CHILD" // the store's directory
	crashSeedEnv  = "GOPEAR_STORAGE_CRASH_SEED"
)

// crashChild is the child's whole life: append batches until killed.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	db, err := Open(dir, nil)
	if err != nil {
		fail(err)
	}
	a, err := openAppender(db, 1)
	if err != nil {
		fail(err)
	}
	rng := rand.New(rand.NewPCG(seed, 9))
	fmt.Printf("open %d\n", a.head.Length)
	for {
		if err := a.append(1 + rng.IntN(24)); err != nil {
			fail(err)
		}
		// Unbuffered: once this line is written the parent may rely on it.
		fmt.Printf("ack %d\n", a.head.Length)
	}
}

func TestProcessCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	rounds := 20
	if raceEnabled {
		rounds = 5
	}
	if *long {
		rounds = 1000
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	dir := t.TempDir()
	var last uint64 // the largest length acknowledged so far in dir
	total := 0
	for round := range rounds {
		if round%50 == 49 {
			// Start over now and then so the store stays small.
			os.RemoveAll(dir)
			dir, last = t.TempDir(), 0
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashSeedEnv+"="+strconv.FormatUint(rng.Uint64(), 10))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Kill after the child opened and a random further time.
		var acked uint64
		opened := false
		kill := time.After(time.Hour)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				var n uint64
				if _, err := fmt.Sscanf(l, "open %d", &n); err == nil {
					if n < last {
						t.Fatalf("round %d: child opened at length %d, %d was acknowledged", round, n, last)
					}
					opened = true
					kill = time.After(time.Duration(rng.IntN(150)) * time.Millisecond)
					continue
				}
				if _, err := fmt.Sscanf(l, "ack %d", &n); err == nil {
					acked = n
					total++
				}
			case <-kill:
				cmd.Process.Signal(syscall.SIGKILL)
				kill = time.After(time.Hour)
			}
		}
		err = cmd.Wait()
		if !opened {
			t.Fatalf("round %d: child never opened: %v", round, err)
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended without being killed: %v", round, err)
		}
		last = max(last, acked)

		db, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		c, err := db.FindCore(testHeader(1).DiscoveryKey)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		head, err := verifyCore(c)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if head.Length < last {
			t.Fatalf("round %d: length %d after the crash, %d was acknowledged", round, head.Length, last)
		}
		last = head.Length
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rounds, %d acknowledged appends, final length %d", rounds, total, last)
}
