package jsref

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Require skips t when the JS reference cannot run here, or fails it when
// GOPEAR_REQUIRE_INTEROP=1. It returns the interop/ folder.
func Require(t testing.TB) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%v (%s=1, so interop tests must run)", err, RequireEnv)
		}
		t.Skipf("skipping interop test: %v", err)
	}
	return dir
}

// Output runs script with args and stdin, and returns its stdout. A non-zero
// exit fails t with the script's stderr.
func Output(t testing.TB, stdin []byte, script string, args ...string) []byte {
	t.Helper()
	Require(t)
	cmd, err := Command(script, args...)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	return stdout.Bytes()
}

// JSON runs script with args, giving it the JSON encoding of in on stdin
// (nothing when in is nil), and decodes its stdout as JSON into out.
func JSON(t testing.TB, in, out any, script string, args ...string) {
	t.Helper()
	var stdin []byte
	if in != nil {
		var err error
		if stdin, err = json.Marshal(in); err != nil {
			t.Fatal(err)
		}
	}
	stdout := Output(t, stdin, script, args...)
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("node %s: decoding its output: %v\n%s", script, err, stdout)
	}
}

// Proc is a running script that exchanges JSON lines with the test: one JSON
// value per line each way. It is stopped when the test ends.
type Proc struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *lockedBuffer
	done   chan struct{}
	err    error // exit error, valid after done is closed
}

// Start starts script with args. Cleanup kills it if it is still running
// and reports its stderr if the test failed.
func Start(t testing.TB, script string, args ...string) *Proc {
	t.Helper()
	Require(t)
	cmd, err := Command(script, args...)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{t: t, name: script, cmd: cmd, stderr: new(lockedBuffer), done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.lines = bufio.NewScanner(stdout)
	p.lines.Buffer(make([]byte, 64<<10), 64<<20)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node %s: %v", script, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() && p.stderr.Len() > 0 {
			t.Logf("stderr of node %s:\n%s", script, p.stderr.String())
		}
	})
	return p
}

// Send writes v to the script's stdin as one JSON line.
func (p *Proc) Send(v any) {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("writing to node %s: %v\n%s", p.name, err, p.stderr.String())
	}
}

// Recv reads the script's next stdout line and decodes it as JSON into v.
// It fails the test if the script exits first.
func (p *Proc) Recv(v any) {
	p.t.Helper()
	if !p.lines.Scan() {
		err := p.lines.Err()
		if err == nil {
			<-p.done
			err = fmt.Errorf("script exited: %v", p.err)
		}
		p.t.Fatalf("reading from node %s: %v\n%s", p.name, err, p.stderr.String())
	}
	if err := json.Unmarshal(p.lines.Bytes(), v); err != nil {
		p.t.Fatalf("node %s printed %q: %v", p.name, p.lines.Text(), err)
	}
}

// CloseStdin closes the script's stdin, which scripts take as "finish".
func (p *Proc) CloseStdin() { p.stdin.Close() }

// Wait waits for the script to exit and fails t if it exited with an error.
func (p *Proc) Wait() {
	p.t.Helper()
	<-p.done
	if p.err != nil {
		p.t.Fatalf("node %s: %v\n%s", p.name, p.err, p.stderr.String())
	}
}

// Stderr returns what the script has written to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}
