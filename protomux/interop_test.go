package protomux

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/secretstream"
)

// The interop tests run Go protomux against JS protomux 3.12.1
// (interop/protomux/peer.js) over TCP on 127.0.0.1. secretstream is not
// involved: both sides frame messages with a u24 little-endian length
// (interop/protomux/framing.js and framedConn below), which is all protomux
// needs of its stream.

// framedConn is a Stream over a byte stream: u24-LE length ‖ message.
type framedConn struct {
	c   net.Conn
	r   *bufio.Reader
	wmu sync.Mutex
}

func newFramedConn(c net.Conn) *framedConn { return &framedConn{c: c, r: bufio.NewReader(c)} }

func (f *framedConn) ReadMessage() ([]byte, error) {
	var h [3]byte
	if _, err := io.ReadFull(f.r, h[:]); err != nil {
		return nil, err
	}
	p := make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	if _, err := io.ReadFull(f.r, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (f *framedConn) WriteMessage(p []byte) error {
	if len(p) >= 1<<24 {
		return errors.New("framedConn: message too large")
	}
	b := append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16)}, p...)
	f.wmu.Lock()
	defer f.wmu.Unlock()
	_, err := f.c.Write(b)
	return err
}

func (f *framedConn) Close() error { return f.c.Close() }

// tapStream records the frames that pass through a Stream.
type tapStream struct {
	Stream
	rx, tx chan string // hex frames
}

func newTap(s Stream) *tapStream {
	return &tapStream{Stream: s, rx: make(chan string, 4096), tx: make(chan string, 4096)}
}

func (s *tapStream) ReadMessage() ([]byte, error) {
	p, err := s.Stream.ReadMessage()
	if err == nil {
		s.rx <- hex.EncodeToString(p)
	}
	return p, err
}

func (s *tapStream) WriteMessage(p []byte) error {
	s.tx <- hex.EncodeToString(p)
	return s.Stream.WriteMessage(p)
}

// waitFrame returns the next frame on c for which match is true, skipping
// the others.
func waitFrame(t *testing.T, c chan string, what string, match func(string) bool) string {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case f := <-c:
			if match(f) {
				return f
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// jsEvent is a line printed by peer.js.
type jsEvent struct {
	Ev        string          `json:"ev"`
	Op        string          `json:"op"`
	Name      string          `json:"name"`
	Protocol  string          `json:"protocol"`
	ID        string          `json:"id"`
	Handshake string          `json:"handshake"`
	Type      int             `json:"type"`
	Value     json.RawMessage `json:"value"`
	Remote    bool            `json:"remote"`
	Created   bool            `json:"created"`
	Opened    bool            `json:"opened"`
	Port      int             `json:"port"`
	Error     *string         `json:"error"`
}

// jsPeer drives peer.js: commands wait for their "ok", and events that
// arrive meanwhile are kept for expect.
type jsPeer struct {
	t       *testing.T
	p       *jsref.Proc
	backlog []jsEvent
}

func (j *jsPeer) cmd(c map[string]any) jsEvent {
	j.t.Helper()
	j.p.Send(c)
	return j.expect(fmt.Sprintf("ok for %v", c), func(e jsEvent) bool { return e.Ev == "ok" && e.Op == c["op"] })
}

func (j *jsPeer) expect(what string, match func(jsEvent) bool) jsEvent {
	j.t.Helper()
	for i, e := range j.backlog {
		if match(e) {
			j.backlog = append(j.backlog[:i], j.backlog[i+1:]...)
			return e
		}
	}
	for {
		var e jsEvent
		j.p.Recv(&e) // bounded: the watchdog ends the script
		if match(e) {
			return e
		}
		j.backlog = append(j.backlog, e)
	}
}

func (j *jsPeer) expectEvent(ev, name string) jsEvent {
	j.t.Helper()
	return j.expect(ev+" "+name, func(e jsEvent) bool { return e.Ev == ev && e.Name == name })
}

// The message types both sides register, in order: string, uint, buffer,
// array of uint.
type goChannel struct {
	ch   *Channel
	str  *Message[string]
	uint *Message[uint64]
	buf  *Message[[]byte]
	arr  *Message[[]uint64]
}

func newGoChannel(t *testing.T, m *Mux, name, protocol string, id []byte, ev *events) *goChannel {
	ch, err := m.CreateChannel(ChannelOptions{
		Protocol: protocol,
		ID:       id,
		OnOpen: func(_ *Channel, hs []byte) error {
			ev.add("%s open %x", name, hs)
			return nil
		},
		OnClose: func(_ *Channel, remote bool) { ev.add("%s close remote=%v", name, remote) },
	})
	if err != nil {
		t.Errorf("CreateChannel %s: %v", name, err)
		return nil
	}
	return &goChannel{
		ch:   ch,
		str:  AddMessage(ch, cenc.String, func(v string) error { ev.add("%s msg 0 %s", name, v); return nil }),
		uint: AddMessage(ch, cenc.Uint, func(v uint64) error { ev.add("%s msg 1 %d", name, v); return nil }),
		buf:  AddMessage(ch, cenc.Buffer, func(v []byte) error { ev.add("%s msg 2 %x", name, v); return nil }),
		arr:  AddMessage(ch, cenc.Array(cenc.Uint), func(v []uint64) error { ev.add("%s msg 3 %v", name, v); return nil }),
	}
}

// Values sent both ways, per message type: strings, uints at the varint
// edges, buffers, arrays.
var (
	interopStrings = []string{"", "hi", "héllo ✓ wörld"}
	interopUints   = []uint64{0, 0xfc, 0xfd, 0xffff, 0x10000, 0xffffffff, 0x100000000, cenc.MaxSafeInteger}
	interopBuffers = [][]byte{{}, {0}, bytes.Repeat([]byte{0xab}, 300)}
	interopArrays  = [][]uint64{{}, {1, 300, 70000}}
)

// jsValue formats a value peer.js reported as the Go side's events do.
func jsValue(t *testing.T, typ int, raw json.RawMessage) string {
	t.Helper()
	var v any
	switch typ {
	case 0, 2: // string, hex
		v = new(string)
	case 1:
		v = new(uint64)
	case 3:
		v = new([]uint64)
	default:
		t.Fatalf("JS reported message type %d", typ)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("JS value %s: %v", raw, err)
	}
	switch v := v.(type) {
	case *string:
		return *v
	case *uint64:
		return strconv.FormatUint(*v, 10)
	case *[]uint64:
		return fmt.Sprint(*v)
	}
	return ""
}

// jsSends lists the send commands for every interop value on channel
// name, and the Go events their arrival produces on goName.
func jsSends(name, goName string) (cmds []map[string]any, want []string) {
	add := func(typ int, value any, shown string) {
		cmds = append(cmds, map[string]any{"op": "send", "name": name, "type": typ, "value": value})
		want = append(want, fmt.Sprintf("%s msg %d %s", goName, typ, shown))
	}
	for _, s := range interopStrings {
		add(0, s, s)
	}
	for _, n := range interopUints {
		add(1, n, strconv.FormatUint(n, 10))
	}
	for _, b := range interopBuffers {
		add(2, hex.EncodeToString(b), hex.EncodeToString(b))
	}
	for _, a := range interopArrays {
		add(3, a, fmt.Sprint(a))
	}
	return cmds, want
}

// sendAll sends every interop value on c and returns what peer.js should
// report for them as (type, value) strings.
func sendAll(t *testing.T, c *goChannel) []string {
	t.Helper()
	var want []string
	check := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range interopStrings {
		check(c.str.Send(s))
		want = append(want, "0 "+s)
	}
	for _, n := range interopUints {
		check(c.uint.Send(n))
		want = append(want, "1 "+strconv.FormatUint(n, 10))
	}
	for _, b := range interopBuffers {
		check(c.buf.Send(b))
		want = append(want, "2 "+hex.EncodeToString(b))
	}
	for _, a := range interopArrays {
		check(c.arr.Send(a))
		want = append(want, "3 "+fmt.Sprint(a))
	}
	return want
}

func expectJSMessages(t *testing.T, js *jsPeer, name string, want []string) {
	t.Helper()
	for _, w := range want {
		e := js.expectEvent("msg", name)
		if got := fmt.Sprintf("%d %s", e.Type, jsValue(t, e.Type, e.Value)); got != w {
			t.Fatalf("JS got %q on %s, want %q", got, name, w)
		}
	}
}

// TestInteropPeer runs the session against a JS peer both over plain
// length-prefixed framing and over secretstream, the transport protomux has
// in the stack (@hyperswarm/secret-stream on the JS side).
func TestInteropPeer(t *testing.T) {
	for _, secure := range []bool{false, true} {
		for _, goDials := range []bool{true, false} {
			name := "go-dials"
			if !goDials {
				name = "js-dials"
			}
			if secure {
				name += "/secretstream"
			}
			t.Run(name, func(t *testing.T) { interopPeer(t, goDials, secure) })
		}
	}
}

func interopPeer(t *testing.T, goDials, secure bool) {
	transport := "framed"
	if secure {
		transport = "secret"
	}
	jsref.Require(t)
	var p *jsref.Proc
	var conn net.Conn
	if goDials {
		p = jsref.Start(t, "protomux/peer.js", "listen", transport)
		var hello jsEvent
		p.Recv(&hello)
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", hello.Port))
		if err != nil {
			t.Fatal(err)
		}
		conn = c
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		p = jsref.Start(t, "protomux/peer.js", "connect", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), transport)
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(waitTimeout))
		if conn, err = ln.Accept(); err != nil {
			t.Fatal(err)
		}
		var hello jsEvent
		p.Recv(&hello)
	}
	watchdog := time.AfterFunc(60*time.Second, p.CloseStdin)
	defer watchdog.Stop()
	var stream Stream = newFramedConn(conn)
	if secure {
		stream = secureConn(t, conn, goDials)
	}
	tap := newTap(stream)
	m := New(tap, nil)
	defer m.Close()
	js := &jsPeer{t: t, p: p}
	ev := newEvents()

	// 1. PROTOCOLS.md 4.5: JS pairs on demand; its open and message frames
	// equal Go's, byte for byte.
	js.cmd(map[string]any{"op": "pair", "protocol": "test", "accept": true})
	vec := newGoChannel(t, m, "vec", "test", []byte{1, 1}, ev)
	if err := vec.ch.Open(nil); err != nil {
		t.Fatal(err)
	}
	goOpen := waitFrame(t, tap.tx, "Go's open", func(string) bool { return true })
	if want := hex.EncodeToString(appendOpen(nil, 1, "test", []byte{1, 1}, nil)); goOpen != want {
		t.Fatalf("Go open frame %s, want %s", goOpen, want)
	}
	if e := js.expect("pair", func(e jsEvent) bool { return e.Ev == "pair" }); e.Protocol != "test" || e.ID != "0101" {
		t.Fatalf("JS pair event %+v", e)
	}
	ev.expect(t, "vec open "+hex.EncodeToString([]byte("js-accept")))
	if e := js.expectEvent("open", "test:0101"); e.Handshake != "" {
		t.Fatalf("JS saw handshake %q", e.Handshake)
	}
	vec.str.Send("hi")
	js.cmd(map[string]any{"op": "send", "name": "test:0101", "type": 0, "value": "hi"})
	goMsg := waitFrame(t, tap.tx, "Go's message", func(string) bool { return true })
	jsOpen := waitFrame(t, tap.rx, "JS's open", func(string) bool { return true })
	jsMsg := waitFrame(t, tap.rx, "JS's message", func(string) bool { return true })
	ev.expect(t, "vec msg 0 hi")
	expectJSMessages(t, js, "test:0101", []string{"0 hi"})
	if want := goOpen + hex.EncodeToString([]byte("js-accept")); jsOpen != want {
		t.Fatalf("JS open frame %s, want %s (Go's open and the handshake)", jsOpen, want)
	}
	if goMsg != jsMsg || goMsg != "0100026869" {
		t.Fatalf("message frames: Go %s, JS %s", goMsg, jsMsg)
	}
	// The same channel without a JS handshake is exactly the 4.5 vector.
	js.cmd(map[string]any{"op": "channel", "name": "vec2", "protocol": "test", "id": "0202", "open": true})
	jsOpen2 := waitFrame(t, tap.rx, "JS's second open", func(f string) bool { return strings.HasPrefix(f, "0001") })
	if want := hex.EncodeToString(appendOpen(nil, 2, "test", []byte{2, 2}, nil)); jsOpen2 != want {
		t.Fatalf("JS open frame %s, want %s", jsOpen2, want)
	}
	js.expectEvent("close", "vec2") // Go has no Pair for it: rejected

	// 2. Typed messages both ways: JS echoes what Go sends.
	js.cmd(map[string]any{"op": "pair", "protocol": "typed", "accept": true, "echo": true})
	typed := newGoChannel(t, m, "typed", "typed", []byte{0xaa}, ev)
	typed.ch.Open([]byte("go-hs"))
	ev.expect(t, "typed open "+hex.EncodeToString([]byte("js-accept")))
	if e := js.expectEvent("open", "typed:aa"); e.Handshake != hex.EncodeToString([]byte("go-hs")) {
		t.Fatalf("JS saw handshake %s", e.Handshake)
	}
	want := sendAll(t, typed)
	expectJSMessages(t, js, "typed:aa", want)
	for _, w := range want {
		ev.expect(t, "typed msg "+w)
	}

	// 3. JS opens first; Go pairs on demand.
	var odMu sync.Mutex
	ods := map[string]*goChannel{}
	od := func(name string) *goChannel {
		odMu.Lock()
		defer odMu.Unlock()
		return ods[name]
	}
	m.Pair("ondemand", nil, func(id []byte) {
		name := fmt.Sprintf("od%x", id)
		c := newGoChannel(t, m, name, "ondemand", id, ev)
		odMu.Lock()
		ods[name] = c
		odMu.Unlock()
		ev.add("pair %x", id)
		c.ch.Open([]byte("go-accept"))
	})
	js.cmd(map[string]any{"op": "channel", "name": "od", "protocol": "ondemand", "id": "01", "handshake": "6a73", "open": true})
	cmds, wantGo := jsSends("od", "od01")
	for _, c := range cmds { // sent before Go's side answered
		js.cmd(c)
	}
	ev.expect(t, "pair 01", "od01 open 6a73")
	ev.expect(t, wantGo...)
	if e := js.expectEvent("open", "od"); e.Handshake != hex.EncodeToString([]byte("go-accept")) {
		t.Fatalf("JS saw handshake %s", e.Handshake)
	}
	if e := js.cmd(map[string]any{"op": "opened", "protocol": "ondemand", "id": "01"}); !e.Opened {
		t.Fatal("JS: ondemand not opened")
	}
	if !m.Opened("ondemand", []byte{1}) {
		t.Fatal("Go: ondemand not opened")
	}

	// 4. Cork and uncork, both ways: one batch frame, all messages in order.
	m.Cork()
	od("od01").str.Send("c1")
	od("od01").uint.Send(1)
	typed.str.Send("c2")
	late := newGoChannel(t, m, "late", "typed", []byte{0xbb}, ev)
	late.ch.Open(nil)
	late.uint.Send(3)
	m.Uncork()
	batch := waitFrame(t, tap.tx, "Go's batch", func(f string) bool { return strings.HasPrefix(f, "0000") })
	if got, err := parseAll(mustHex(t, batch)); err != nil || len(got) != 5 {
		t.Fatalf("Go batch %s parsed as %v, %v", batch, got, err)
	}
	expectJSMessages(t, js, "od", []string{"0 c1", "1 1"})
	expectJSMessages(t, js, "typed:aa", []string{"0 c2"})
	js.expectEvent("open", "typed:bb")
	expectJSMessages(t, js, "typed:bb", []string{"1 3"})
	ev.expect(t, "typed msg 0 c2", "late open "+hex.EncodeToString([]byte("js-accept")), "late msg 1 3")

	js.cmd(map[string]any{"op": "cork"})
	js.cmd(map[string]any{"op": "send", "name": "od", "type": 0, "value": "j1"})
	js.cmd(map[string]any{"op": "send", "name": "od", "type": 1, "value": 2})
	js.cmd(map[string]any{"op": "send", "name": "typed:aa", "type": 2, "value": "0102"})
	js.cmd(map[string]any{"op": "channel", "name": "od2", "protocol": "ondemand", "id": "02", "open": true})
	js.cmd(map[string]any{"op": "uncork"})
	// (JS answered Go's batch with a batch too; this is the next one.)
	batch = waitFrame(t, tap.rx, "JS's batch", func(f string) bool {
		return strings.HasPrefix(f, "0000") && strings.Contains(f, hex.EncodeToString([]byte("j1")))
	})
	if got, err := parseAll(mustHex(t, batch)); err != nil || len(got) != 4 {
		t.Fatalf("JS batch %s parsed as %v, %v", batch, got, err)
	}
	ev.expect(t, "od01 msg 0 j1", "od01 msg 1 2", "typed msg 2 0102", "pair 02", "od02 open ")
	js.expectEvent("open", "od2")

	// 5. Close, both ways.
	od("od02").ch.Close()
	ev.expect(t, "od02 close remote=false")
	if e := js.expectEvent("close", "od2"); !e.Remote {
		t.Fatal("JS: close not remote")
	}
	js.cmd(map[string]any{"op": "closech", "name": "typed:aa"})
	ev.expect(t, "typed close remote=true")
	if m.Opened("typed", []byte{0xaa}) {
		t.Fatal("Go: typed still opened")
	}

	// 6. A protocol nobody pairs is rejected, both ways.
	nobody := newGoChannel(t, m, "nobody", "nobody", nil, ev)
	nobody.ch.Open(nil)
	ev.expect(t, "nobody close remote=true")
	js.cmd(map[string]any{"op": "channel", "name": "nj", "protocol": "nobody-js", "open": true})
	if e := js.expectEvent("close", "nj"); !e.Remote {
		t.Fatal("JS: reject not seen as remote close")
	}

	// 7. Both muxes are healthy; JS ends the stream.
	if err := m.Err(); err != nil {
		t.Fatalf("Go mux: %v", err)
	}
	js.cmd(map[string]any{"op": "end"})
	select {
	case <-m.Done():
	case <-time.After(waitTimeout):
		t.Fatal("Go mux did not end after JS ended the stream")
	}
	if err := m.Err(); !errors.Is(err, io.EOF) {
		t.Fatalf("Go mux error %v, want EOF", err)
	}
	if e := js.expectEvent("destroyed", ""); e.Error != nil {
		t.Fatalf("JS stream error: %s", *e.Error)
	}
	p.CloseStdin()
	p.Wait()
}

// TestInteropMalformedFrames feeds the frames of malformedFrames to JS
// protomux and to Go, one fresh mux each, and checks that both end the mux
// on the same frames, and that the table says so too.
func TestInteropMalformedFrames(t *testing.T) {
	var frames []string
	for _, tc := range malformedFrames {
		frames = append(frames, tc.hex)
	}
	var js []struct {
		Destroyed bool    `json:"destroyed"`
		Paired    bool    `json:"paired"`
		Error     *string `json:"error"`
	}
	jsref.JSON(t, frames, &js, "protomux/malformed.js")
	if len(js) != len(frames) {
		t.Fatalf("JS answered %d of %d", len(js), len(frames))
	}
	for i, tc := range malformedFrames {
		t.Run(tc.hex, func(t *testing.T) {
			r := js[i]
			if r.Destroyed == r.Paired {
				t.Fatalf("JS result %+v: want exactly one of destroyed and paired", r)
			}
			if r.Destroyed != tc.destroys {
				t.Errorf("JS destroyed=%v (%v), table says %v", r.Destroyed, deref(r.Error), tc.destroys)
			}
			m, raw := rawMux(t)
			if got := feedAndProbe(t, m, raw, tc.hex); got != r.Destroyed {
				t.Errorf("Go destroyed=%v (%v), JS %v (%v)", got, m.Err(), r.Destroyed, deref(r.Error))
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "no error"
	}
	return *s
}

var writeCorpus = flag.Bool("protomux.corpus", false, "write the frames of interop/protomux/capture.js to testdata/fuzz as seeds")

// TestInteropCapturedFrames takes every frame JS protomux wrote in a
// session (interop/protomux/capture.js), parses it, and writes its messages
// back: single frames and batch frames must come out byte for byte as JS
// wrote them. With -protomux.corpus it stores the frames as fuzz seeds.
func TestInteropCapturedFrames(t *testing.T) {
	var frames []string
	jsref.JSON(t, nil, &frames, "protomux/capture.js")
	if len(frames) < 10 {
		t.Fatalf("JS wrote only %d frames", len(frames))
	}
	batches := 0
	for _, h := range frames {
		frame := mustHex(t, h)
		got, err := parseAll(frame)
		if err != nil {
			t.Fatalf("JS frame %s: %v", h, err)
		}
		var again []byte
		if frame[0] == 0 && frame[1] == typeBatch {
			batches++
			var entries []batchEntry
			for _, m := range got {
				entries = append(entries, batchEntry{m.channel, append(cenc.AppendUint(nil, m.typ), m.payload...)})
			}
			again = appendBatch(nil, entries)
		} else {
			if len(got) != 1 {
				t.Fatalf("JS frame %s: %d messages", h, len(got))
			}
			again = appendMessage(nil, got[0].channel, got[0].typ, []byte(got[0].payload))
		}
		if hex.EncodeToString(again) != h {
			t.Errorf("JS frame %s, Go wrote it back as %x", h, again)
		}
	}
	if batches < 2 {
		t.Errorf("JS wrote %d batch frames, want at least 2", batches)
	}
	if *writeCorpus {
		var all [][]byte
		for i, h := range frames {
			all = append(all, mustHex(t, h))
			writeSeed(t, "FuzzParseFrame", fmt.Sprintf("js-%02d", i), all[i])
		}
		writeSeed(t, "FuzzMux", "js-session", lengthPrefixed(all...))
	}
}

func writeSeed(t *testing.T, target, name string, b []byte) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// secureConn runs the secretstream handshake on conn, as the initiator when
// Go dialled.
func secureConn(t *testing.T, conn net.Conn, initiator bool) *secretstream.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	handshake := secretstream.Server
	if initiator {
		handshake = secretstream.Client
	}
	s, err := handshake(ctx, conn, nil)
	if err != nil {
		t.Fatalf("secretstream handshake with JS: %v", err)
	}
	return s
}
