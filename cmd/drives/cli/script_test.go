package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gopear/gopear/cmd/drives/cli"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes the test binary the drives command when testscript runs
// it as "drives", as cmd/drives/main.go does.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"drives": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs the scripts in testdata/script: each a txtar archive
// of commands (see package testscript) and the files they use.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			for _, name := range []string{"PORT", "PORT2"} {
				port, err := freePort()
				if err != nil {
					return err
				}
				env.Setenv(name, strconv.Itoa(port))
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jsonenv":  cmdJSONEnv,
			"waitport": cmdWaitPort,
			"httpget":  cmdHTTPGet,
			"isexec":   cmdIsExec,
			"readlink": cmdReadlink,
			"gen":      cmdGen,
		},
	})
}

// freePort returns a TCP port free on 127.0.0.1 right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// jsonenv VAR field: sets VAR to the string field of the JSON object the
// last command printed on stdout.
func cmdJSONEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonenv VAR field")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &m); err != nil {
		ts.Fatalf("stdout is not a JSON object: %v", err)
	}
	v, ok := m[args[1]]
	if !ok {
		ts.Fatalf("no field %q in stdout", args[1])
	}
	ts.Setenv(args[0], fmt.Sprint(v))
}

// waitport HOST:PORT: waits (up to 20s) until something accepts TCP
// connections there.
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport HOST:PORT")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing listens on %s: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpget [-range bytes=A-B] URL: GETs URL and prints the body on stdout
// and the status code on stderr.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	var rng string
	if len(args) == 3 && args[0] == "-range" {
		rng, args = args[1], args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: httpget [-range bytes=A-B] URL")
	}
	req, err := http.NewRequest("GET", args[0], nil)
	ts.Check(err)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	res, err := client.Do(req)
	ts.Check(err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	ts.Check(err)
	ts.Stdout().Write(body)
	fmt.Fprintf(ts.Stderr(), "%d\n", res.StatusCode)
	if ok := res.StatusCode < 400; ok == neg {
		ts.Fatalf("GET %s: status %d", args[0], res.StatusCode)
	}
}

// isexec FILE: the file is executable by its owner (or, negated, not).
func cmdIsExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: isexec FILE")
	}
	st, err := os.Lstat(ts.MkAbs(args[0]))
	ts.Check(err)
	if exec := st.Mode().IsRegular() && st.Mode().Perm()&0o100 != 0; exec == neg {
		ts.Fatalf("%s: mode %v", args[0], st.Mode())
	}
}

// readlink FILE TARGET: FILE is a symbolic link to TARGET.
func cmdReadlink(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: readlink FILE TARGET")
	}
	st, err := os.Lstat(ts.MkAbs(args[0]))
	ts.Check(err)
	if st.Mode()&fs.ModeSymlink == 0 {
		ts.Fatalf("%s is not a symbolic link (mode %v)", args[0], st.Mode())
	}
	got, err := os.Readlink(ts.MkAbs(args[0]))
	ts.Check(err)
	if got != args[1] {
		ts.Fatalf("%s -> %s, want %s", args[0], got, args[1])
	}
}

// gen FILE SIZE: writes SIZE pseudo-random bytes to FILE.
func cmdGen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gen FILE SIZE")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}
