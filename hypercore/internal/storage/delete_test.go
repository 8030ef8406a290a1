package storage

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// countRange returns how many keys the DB holds in [lo, hi).
func countRange(t *testing.T, db *DB, lo, hi []byte) int {
	t.Helper()
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for valid := it.First(); valid; valid = it.Next() {
		n++
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		t.Fatal(err)
	}
	return n
}

// fillCores makes cores with seeds 1..n in db, each with blocks, tree
// nodes, bitfield pages, a head, user data and an alias, and returns
// their handles by seed.
func fillCores(t *testing.T, db *DB, n int, rng *rand.Rand) map[byte]*Core {
	t.Helper()
	cores := make(map[byte]*Core)
	for seed := byte(1); seed <= byte(n); seed++ {
		a, err := openAppender(db, seed)
		if err != nil {
			t.Fatal(err)
		}
		for range 1 + rng.IntN(4) {
			if err := a.append(1 + rng.IntN(50)); err != nil {
				t.Fatal(err)
			}
		}
		b := db.NewBatch()
		b.PutUserData(a.c.ID(), "hello", []byte{seed})
		b.PutAlias([32]byte{seed}, "name", a.c.ID())
		mustCommit(t, b)
		cores[seed] = a.c
	}
	return cores
}

func TestDeleteCores(t *testing.T) {
	db := openMem(t, nil)
	cores := fillCores(t, db, 3, rand.New(rand.NewPCG(1, 2)))
	c1, c2, c3 := cores[1], cores[2], cores[3]
	// A second alias of c1, in another namespace.
	b := db.NewBatch()
	b.PutAlias([32]byte{9}, "other", c1.ID())
	mustCommit(t, b)

	// A missing core fails the whole call: nothing is deleted.
	before := dump(t, db)
	if err := db.DeleteCores(c1.DiscoveryKey(), [32]byte{0xee}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteCores with a missing core: err = %v, want ErrNotFound", err)
	}
	if dump(t, db) != before {
		t.Fatal("a failed DeleteCores changed the DB")
	}

	// c2 given twice is deleted once.
	if err := db.DeleteCores(c1.DiscoveryKey(), c2.DiscoveryKey(), c2.DiscoveryKey()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Core{c1, c2} {
		if _, err := db.FindCore(c.DiscoveryKey()); !errors.Is(err, ErrNotFound) {
			t.Errorf("FindCore of a deleted core: err = %v", err)
		}
		lo, hi := coreRange(c.ID())
		if n := countRange(t, db, lo, hi); n != 0 {
			t.Errorf("core %d: %d keys left", c.ID(), n)
		}
		if _, err := c.Header(); !errors.Is(err, ErrNotFound) {
			t.Errorf("header of a deleted core: err = %v", err)
		}
	}
	for _, a := range []struct {
		ns   byte
		name string
	}{{1, "name"}, {9, "other"}, {2, "name"}} {
		if _, err := db.FindAlias([32]byte{a.ns}, a.name); !errors.Is(err, ErrNotFound) {
			t.Errorf("alias %d/%s of a deleted core: err = %v", a.ns, a.name, err)
		}
		if n := countRange(t, db, aliasKey(nil, &[32]byte{a.ns}, a.name), prefixEnd(aliasKey(nil, &[32]byte{a.ns}, a.name))); n != 0 {
			t.Errorf("alias %d/%s still stored", a.ns, a.name)
		}
	}

	// c3 is untouched.
	var left [][32]byte
	for c, err := range db.Cores() {
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, c.DiscoveryKey())
	}
	if len(left) != 1 || left[0] != c3.DiscoveryKey() {
		t.Fatalf("cores left: %x", left)
	}
	if _, err := verifyCore(c3); err != nil {
		t.Fatalf("core 3 after deleting the others: %v", err)
	}
	if v, err := c3.UserData("hello"); err != nil || len(v) != 1 || v[0] != 3 {
		t.Fatalf("core 3 user data = %v, %v", v, err)
	}
	if a, err := db.FindAlias([32]byte{3}, "name"); err != nil || a.ID() != c3.ID() {
		t.Fatalf("alias of core 3 = %v, %v", a, err)
	}

	// Deleting again finds nothing.
	if err := db.DeleteCores(c1.DiscoveryKey()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteCores: err = %v", err)
	}
}

// TestDeleteCoresNoResurrection checks that nothing of a deleted core
// reaches a core created later with the same discovery key: not its data,
// not its aliases, not a write to its id committed after the deletion.
func TestDeleteCoresNoResurrection(t *testing.T) {
	fs := vfs.NewMem()
	db := openMem(t, fs)
	cores := fillCores(t, db, 1, rand.New(rand.NewPCG(3, 4)))
	old := cores[1]
	stale := db.NewBatch() // built before the deletion, committed after
	stale.PutBlock(old.ID(), 0, []byte("stale"))
	stale.SetHead(old.ID(), &Head{Length: 1})
	stale.PutUserData(old.ID(), "hello", []byte("stale"))

	if err := db.DeleteCores(old.DiscoveryKey()); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, stale)

	check := func(db *DB) {
		t.Helper()
		c, err := db.CreateCore(testHeader(1))
		if err != nil {
			t.Fatal(err)
		}
		if c.ID() <= old.ID() {
			t.Fatalf("new core got id %d, the deleted one had %d", c.ID(), old.ID())
		}
		if _, err := c.Head(); !errors.Is(err, ErrNotFound) {
			t.Errorf("new core has a head: %v", err)
		}
		if _, err := c.Block(0); !errors.Is(err, ErrNotFound) {
			t.Errorf("new core has block 0: %v", err)
		}
		if _, err := c.UserData("hello"); !errors.Is(err, ErrNotFound) {
			t.Errorf("new core has user data: %v", err)
		}
		if _, err := db.FindAlias([32]byte{1}, "name"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the deleted core's alias came back: %v", err)
		}
		if err := db.DeleteCores(c.DiscoveryKey()); err != nil {
			t.Fatal(err)
		}
	}
	check(db)
	// And after reopening: the id counter is on disk.
	db.Close()
	check(openMem(t, fs))
}

func TestDeleteCoresClosed(t *testing.T) {
	db := openMem(t, nil)
	c, err := db.CreateCore(testHeader(1))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.DeleteCores(c.DiscoveryKey()); !errors.Is(err, ErrClosed) {
		t.Fatalf("DeleteCores on a closed DB: err = %v", err)
	}
}

// TestDeleteCoresCrash takes crash clones of a crashable in-memory file
// system while DeleteCores runs, some of the cores' data in the WAL and
// some flushed to sstables and blob files. Every clone, reopened, must
// hold either every core as before or none of the deleted ones, and a
// clone taken after DeleteCores returned must hold none, even when the DB
// was opened with NoSync.
func TestDeleteCoresCrash(t *testing.T) {
	rounds := 6
	if raceEnabled || testing.Short() {
		rounds = 2
	}
	if *long {
		rounds = 100
	}
	for round := range rounds {
		t.Run(fmt.Sprintf("seed=%d", round), func(t *testing.T) {
			deleteCrashRound(t, uint64(round))
		})
	}
}

func deleteCrashRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	fs := vfs.NewCrashableMem()
	db, err := Open("db", &Options{FS: fs, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cores := fillCores(t, db, 2, rng)
	if rng.IntN(2) == 0 {
		if err := db.pdb.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	more := fillCores(t, db, 4, rng) // cores 1 and 2 grow, 3 and 4 are new
	// Sync the WAL, so that the state before is durable.
	if err := db.pdb.LogData([]byte("sync"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	before := dump(t, db)
	var after [32]byte

	done := make(chan error, 1)
	wait := time.Duration(rng.IntN(500)) * time.Microsecond
	go func() {
		time.Sleep(wait)
		done <- db.DeleteCores(cores[1].DiscoveryKey(), more[3].DiscoveryKey())
	}()
	type clone struct {
		fs       *vfs.MemFS
		returned bool
	}
	var clones []clone
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			after = dump(t, db)
			running = false
		case <-time.After(time.Duration(rng.IntN(100)) * time.Microsecond):
		}
		c := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(rng.Uint64(), 0))})
		clones = append(clones, clone{c, !running})
	}
	if before == after {
		t.Fatal("DeleteCores changed nothing")
	}
	var sawBefore, sawAfter int
	for i, c := range clones {
		cdb, err := Open("db", &Options{FS: c.fs})
		if err != nil {
			t.Fatalf("clone %d: reopen: %v", i, err)
		}
		d := dump(t, cdb)
		switch {
		case d == after:
			sawAfter++
		case d == before && !c.returned:
			sawBefore++
		default:
			t.Errorf("clone %d (taken after return: %v) holds neither the state before nor the state after DeleteCores", i, c.returned)
		}
		for c, err := range cdb.Cores() {
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verifyCore(c); err != nil {
				t.Errorf("clone %d: core %d: %v", i, c.ID(), err)
			}
		}
		cdb.Close()
	}
	t.Logf("%d crash clones: %d before the deletion, %d after", len(clones), sawBefore, sawAfter)
}
