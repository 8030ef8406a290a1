package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
)

// The drive workloads fetch a 100 MB hyperdrive (40 files of 2.5 MB and
// 1,000 of 1 KiB) from a seeder over loopback TCP (secretstream, protomux,
// a corestore's db and blobs cores) and export it into an empty folder
// (mirrordrive into localdrive; JS: mirror-drive into localdrive), the
// fetcher in a process of its own. Throughput is the file bytes over the
// time from the fetcher's dial to the mirror being done (MB/s); memory is
// the fetcher process's peak resident set size (VmHWM, MB), for which lower
// is better. Stores do not sync (JS's RocksDB does not either).
//
// Neither side removes its folders: they go with the bench's scratch
// folder when the bench ends. On ext4 without a journal (as on the bench
// machine), creating a file scans past every inode of its block group
// freed in the last minute, or six while the inode table is not yet
// written back (ext4's recently_deleted), so a run following the removal
// of another run's 1,040 files would spend up to half a second more
// creating its own, whichever side it is. For the same reason this
// workload's figures are only comparable on a disk that saw no mass
// deletion (a test run, an earlier bench) in the minutes before; with
// TMPDIR on a tmpfs they are steady.
//
// Go↔Go: the seeder runs in this process, the fetcher in a child process
// (this binary re-executed with driveFetcherEnv set). JS↔JS:
// bench/js/drive.js is the fetcher and starts the seeder as a child node
// process. One run on each side gives both rows.
//
// GOPEAR_BENCH_DRIVE_CPUPROFILE=<file> makes the Go fetcher write a CPU
// profile of its run (from the dial to the end of the mirror) to file, for
// go tool pprof with the bench binary.

const (
	driveBig        = 40
	driveBigSize    = 2_500_000
	driveSmall      = 1000
	driveSmallSize  = 1024
	driveFetcherEnv = "GOPEAR_BENCH_DRIVE_FETCHER"
)

func init() {
	runChild(driveFetcherEnv, "bench drive fetcher", driveFetcherChild)
	registerTransfer("hyperdrive: fetch + export a 100 MB drive (40 x 2.5 MB, 1,000 x 1 KiB) over loopback TCP",
		"hyperdrive: fetch + export a 100 MB drive, fetcher peak memory", driveGo, driveJS)
}

var (
	driveGo = &replRun{run: benchDriveGo}
	driveJS = &replRun{run: benchDriveJS}
)

// driveContent is file i's bytes, as bench/js/drive.js makes them.
func driveContent(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*31 + j*7 + j>>9)
	}
	return b
}

func driveBigName(i int) string   { return fmt.Sprintf("/big/%03d.bin", i) }
func driveSmallName(i int) string { return fmt.Sprintf("/small/%d/%04d.txt", i%10, i) }

const driveBytes = driveBig*driveBigSize + driveSmall*driveSmallSize

func benchDriveJS(ctx context.Context) (replResult, error) {
	return runJSTransfer(ctx, "bench/js/drive.js",
		strconv.Itoa(driveBig), strconv.Itoa(driveBigSize), strconv.Itoa(driveSmall), strconv.Itoa(driveSmallSize))
}

// writeBenchDrive writes the drive into a store in dir and returns its key
// and version. The seeder then opens the same corestore again and serves
// the stored cores.
func writeBenchDrive(ctx context.Context, dir string) (hypercore.Key, uint64, error) {
	hs, err := corestore.Open(ctx, dir, &corestore.Options{NoSync: true})
	if err != nil {
		return hypercore.Key{}, 0, err
	}
	kp := hcrypto.KeyPairFromSeed([32]byte{'d', 'r', 'i', 'v', 'e'})
	d, err := hyperdrive.New(ctx, hs, hypercore.Key{}, &hyperdrive.Options{KeyPair: &kp})
	if err != nil {
		return hypercore.Key{}, 0, errors.Join(err, hs.Close())
	}
	err = func() error {
		for i := range driveBig {
			if err := d.Put(ctx, driveBigName(i), driveContent(i, driveBigSize), nil); err != nil {
				return err
			}
		}
		b := d.Batch()
		for i := range driveSmall {
			if err := b.Put(ctx, driveSmallName(i), driveContent(driveBig+i, driveSmallSize), nil); err != nil {
				return err
			}
		}
		return b.Flush(ctx)
	}()
	key, version := d.Key(), d.Version()
	return key, version, errors.Join(err, d.Close(), hs.Close())
}

func benchDriveGo(ctx context.Context) (replResult, error) {
	dir, err := os.MkdirTemp("", "gopear-bench-drive-")
	if err != nil {
		return replResult{}, err
	}
	seedDir := filepath.Join(dir, "seeder")
	key, version, err := writeBenchDrive(ctx, seedDir)
	if err != nil {
		return replResult{}, err
	}
	store, err := corestore.Open(ctx, seedDir, &corestore.Options{NoSync: true})
	if err != nil {
		return replResult{}, err
	}
	defer store.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return replResult{}, err
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if _, err := store.Replicate(conn, false); err != nil {
				conn.Close()
			}
		}
	}()
	defer func() {
		ln.Close()
		<-served
	}()

	return runChildProcess(ctx, "fetcher",
		driveFetcherEnv+"=1",
		"GOPEAR_BENCH_DRIVE_ADDR="+ln.Addr().String(),
		"GOPEAR_BENCH_DRIVE_KEY="+hex.EncodeToString(key[:]),
		"GOPEAR_BENCH_DRIVE_VERSION="+strconv.FormatUint(version, 10),
		"GOPEAR_BENCH_DRIVE_DIR="+filepath.Join(dir, "fetcher"),
	)
}

// driveFetcherChild is the Go fetcher: it fetches the drive from the
// seeder at GOPEAR_BENCH_DRIVE_ADDR into a corestore of its own, mirrors it
// into an empty folder and prints its replResult.
func driveFetcherChild() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	kb, err := hex.DecodeString(os.Getenv("GOPEAR_BENCH_DRIVE_KEY"))
	if err != nil || len(kb) != 32 {
		return fmt.Errorf("bad key %q", os.Getenv("GOPEAR_BENCH_DRIVE_KEY"))
	}
	version, err := strconv.ParseUint(os.Getenv("GOPEAR_BENCH_DRIVE_VERSION"), 10, 64)
	if err != nil {
		return err
	}
	dir := os.Getenv("GOPEAR_BENCH_DRIVE_DIR")
	store, err := corestore.Open(ctx, filepath.Join(dir, "store"), &corestore.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := hyperdrive.New(ctx, store, hypercore.Key(kb), nil)
	if err != nil {
		return err
	}
	defer d.Close()
	out := filepath.Join(dir, "out")
	dst, err := localdrive.New(out, nil)
	if err != nil {
		return err
	}

	if file := os.Getenv("GOPEAR_BENCH_DRIVE_CPUPROFILE"); file != "" {
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	start := time.Now()
	conn, err := net.Dial("tcp", os.Getenv("GOPEAR_BENCH_DRIVE_ADDR"))
	if err != nil {
		return err
	}
	rep, err := store.Replicate(conn, true)
	if err != nil {
		return err
	}
	defer rep.Close()
	db := d.Core()
	for db.Length() < version {
		if len(db.Peers()) == 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		if _, err := db.Update(ctx, nil); err != nil {
			return err
		}
	}
	if _, err := mirrordrive.Mirror(ctx, d, dst, nil); err != nil {
		return err
	}
	elapsed := time.Since(start)
	pprof.StopCPUProfile()
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	check := func(name string, want []byte) error {
		got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("file %s differs", name)
		}
		return nil
	}
	for _, i := range []int{0, driveBig - 1} {
		if err := check(driveBigName(i), driveContent(i, driveBigSize)); err != nil {
			return err
		}
	}
	for _, i := range []int{0, driveSmall - 1} {
		if err := check(driveSmallName(i), driveContent(driveBig+i, driveSmallSize)); err != nil {
			return err
		}
	}
	res := replResult{MBps: driveBytes / elapsed.Seconds() / 1e6, RSSMB: float64(hwm) / 1e6}
	return json.NewEncoder(os.Stdout).Encode(res)
}
