package protomux

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopear/gopear/cenc"
)

const waitTimeout = 5 * time.Second

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// muxPair returns two muxes connected by a Pipe, closed when the test ends.
func muxPair(t *testing.T) (a, b *Mux) {
	sa, sb := Pipe()
	a, b = New(sa, nil), New(sb, nil)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// gatedPair returns two muxes connected by a Pipe that read nothing until
// release is called (Options.DeferRead), so that channels opened on both
// sides before it pair without either side rejecting the other's open first.
func gatedPair(t *testing.T) (a, b *Mux, release func()) {
	sa, sb := Pipe()
	opts := &Options{DeferRead: true}
	a, b = New(sa, opts), New(sb, opts)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b, func() { a.Start(); b.Start() }
}

// rawMux returns a mux and the other end of its stream, for tests that
// write and read frames by hand.
func rawMux(t *testing.T) (*Mux, Stream) {
	sa, sb := Pipe()
	m := New(sa, nil)
	t.Cleanup(func() { m.Close(); sb.Close() })
	return m, sb
}

// events records what callbacks saw, in order.
type events struct{ c chan string }

func newEvents() *events { return &events{make(chan string, 1024)} }

func (e *events) add(format string, args ...any) { e.c <- fmt.Sprintf(format, args...) }

func (e *events) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-e.c:
			if got != w {
				t.Fatalf("event %q, want %q", got, w)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("timed out waiting for event %q", w)
		}
	}
}

func (e *events) none(t *testing.T) {
	t.Helper()
	select {
	case got := <-e.c:
		t.Fatalf("unexpected event %q", got)
	case <-time.After(20 * time.Millisecond):
	}
}

// testChannel creates and opens a "test" channel with a string and a uint
// message type, recording its events with the name tag.
func testChannel(t *testing.T, m *Mux, tag string, id []byte, ev *events) (*Channel, *Message[string], *Message[uint64]) {
	t.Helper()
	ch, err := m.CreateChannel(ChannelOptions{
		Protocol: "test",
		ID:       id,
		OnOpen: func(ch *Channel, hs []byte) error {
			ev.add("%s open %q", tag, hs)
			return nil
		},
		OnClose: func(ch *Channel, remote bool) { ev.add("%s close remote=%v", tag, remote) },
	})
	if err != nil {
		t.Errorf("CreateChannel: %v", err) // may run in a callback: no Fatal
		return nil, nil, nil
	}
	s := AddMessage(ch, cenc.String, func(v string) error { ev.add("%s string %s", tag, v); return nil })
	u := AddMessage(ch, cenc.Uint, func(v uint64) error { ev.add("%s uint %d", tag, v); return nil })
	return ch, s, u
}

func readFrame(t *testing.T, s Stream) string {
	t.Helper()
	p, err := s.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(p)
}

func writeFrame(t *testing.T, s Stream, h string) {
	t.Helper()
	if err := s.WriteMessage(mustHex(t, h)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenExchangeClose(t *testing.T) {
	a, b, release := gatedPair(t)
	ev := newEvents()
	ca, sa, ua := testChannel(t, a, "a", []byte{1, 1}, ev)
	cb, sb, ub := testChannel(t, b, "b", []byte{1, 1}, ev)
	if err := sa.Send("early"); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("Send before Open: %v, want ErrNotOpen", err)
	}
	if err := ca.Open([]byte("hs-a")); err != nil {
		t.Fatal(err)
	}
	if err := ca.Open(nil); !errors.Is(err, ErrAlreadyOpen) {
		t.Fatalf("second Open: %v", err)
	}
	// Sent before the remote opened: the remote holds it until then.
	if err := sa.Send("before"); err != nil {
		t.Fatal(err)
	}
	if err := cb.Open([]byte("hs-b")); err != nil {
		t.Fatal(err)
	}
	release()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := ca.WaitOpen(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cb.WaitOpen(ctx); err != nil {
		t.Fatal(err)
	}
	if !a.Opened("test", []byte{1, 1}) || a.Opened("test", nil) || !ca.Opened() {
		t.Fatal("Opened reports wrong state")
	}
	if _, err := a.CreateChannel(ChannelOptions{Protocol: "test", ID: []byte{1, 1}}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate CreateChannel: %v, want ErrExists", err)
	}
	if err := ub.Send(300); err != nil {
		t.Fatal(err)
	}
	if err := sb.Send("from b"); err != nil {
		t.Fatal(err)
	}
	if err := ua.Send(1 << 40); err != nil {
		t.Fatal(err)
	}
	// Events of each side are ordered; interleave-agnostic checks per side.
	got := map[string][]string{}
	for range 6 {
		select {
		case e := <-ev.c:
			got[e[:1]] = append(got[e[:1]], e)
		case <-time.After(waitTimeout):
			t.Fatalf("timed out; have %v", got)
		}
	}
	wantA := []string{`a open "hs-b"`, "a uint 300", "a string from b"}
	wantB := []string{`b open "hs-a"`, "b string before", "b uint 1099511627776"}
	if fmt.Sprint(got["a"]) != fmt.Sprint(wantA) {
		t.Fatalf("a saw %q, want %q", got["a"], wantA)
	}
	if fmt.Sprint(got["b"]) != fmt.Sprint(wantB) {
		t.Fatalf("b saw %q, want %q", got["b"], wantB)
	}

	if err := ca.Close(); err != nil {
		t.Fatal(err)
	}
	closes := []string{<-ev.c, <-ev.c}
	slices.Sort(closes)
	if want := []string{"a close remote=false", "b close remote=true"}; !slices.Equal(closes, want) {
		t.Fatalf("close events %q, want %q", closes, want)
	}
	if err := sa.Send("late"); !errors.Is(err, ErrChannelClosed) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if err := sb.Send("late"); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("Send after remote close: %v", err)
	}
	if a.Opened("test", []byte{1, 1}) || b.Opened("test", []byte{1, 1}) {
		t.Fatal("Opened after close")
	}
	if err := ca.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	ev.none(t)
}

// TestWireFrames checks the exact frames a mux writes (the layout of
// PROTOCOLS.md section 4; TestInteropVector checks them against JS).
func TestWireFrames(t *testing.T) {
	m, raw := rawMux(t)
	ev := newEvents()
	ch, s, _ := testChannel(t, m, "go", []byte{1, 1}, ev)
	if err := ch.Open(nil); err != nil {
		t.Fatal(err)
	}
	if got, want := readFrame(t, raw), "0001"+"01"+"0474657374"+"020101"; got != want {
		t.Fatalf("open frame %s, want %s", got, want)
	}
	writeFrame(t, raw, "0001010474657374020101")
	ev.expect(t, `go open ""`)
	if err := s.Send("hi"); err != nil {
		t.Fatal(err)
	}
	if got, want := readFrame(t, raw), "0100026869"; got != want {
		t.Fatalf("message frame %s, want %s", got, want)
	}
	writeFrame(t, raw, "0100026869")
	ev.expect(t, "go string hi")
	// A second channel gets id 2; closing the first frees id 1, which the
	// next open reuses.
	c2, err := m.CreateChannel(ChannelOptions{Protocol: "other"})
	if err != nil {
		t.Fatal(err)
	}
	c2.Open([]byte{0xaa})
	if got, want := readFrame(t, raw), "000102056f7468657200aa"; got != want {
		t.Fatalf("second open %s, want %s", got, want)
	}
	ch.Close()
	if got, want := readFrame(t, raw), "000301"; got != want {
		t.Fatalf("close frame %s, want %s", got, want)
	}
	ev.expect(t, "go close remote=false")
	c3, _ := m.CreateChannel(ChannelOptions{Protocol: "third"})
	c3.Open(nil)
	if got, want := readFrame(t, raw), "000101057468697264"+"00"; got != want {
		t.Fatalf("reused id: %s, want %s", got, want)
	}
}

func TestCorkBatch(t *testing.T) {
	m, raw := rawMux(t)
	ev := newEvents()
	ch, s, u := testChannel(t, m, "go", nil, ev)
	c2, _ := m.CreateChannel(ChannelOptions{Protocol: "two"})
	s2 := AddMessage(c2, cenc.Buffer, nil)

	m.Cork()
	ch.Cork() // nested
	ch.Open(nil)
	c2.Open(nil)
	s.Send("a")
	u.Send(7)
	s2.Send([]byte{9})
	s.Send("b")
	ch.Uncork()
	writeFrameAsync := make(chan string, 1)
	go func() {
		p, _ := raw.ReadMessage()
		writeFrameAsync <- hex.EncodeToString(p)
	}()
	select {
	case f := <-writeFrameAsync:
		t.Fatalf("frame %s sent while still corked", f)
	case <-time.After(20 * time.Millisecond):
	}
	m.Uncork()
	m.Uncork()              // unbalanced: ignored
	want := "0000" + "00" + // batch, first entry on channel 0
		"08" + "0101047465737400" + // open 1 "test" no id
		"07" + "01020374776f00" + // open 2 "two" no id
		"0001" + // switch to channel 1
		"03" + "000161" + // type 0 "a"
		"02" + "0107" + // type 1 uint 7
		"0002" + "03" + "000109" + // channel 2: type 0 buffer 09
		"0001" + "03" + "000162" // channel 1: type 0 "b"
	if got := <-writeFrameAsync; got != want {
		t.Fatalf("batch\n got %s\nwant %s", got, want)
	}

	// A batch received is delivered in order; replies sent while handling
	// it go out as one batch.
	ch2, _ := m.CreateChannel(ChannelOptions{Protocol: "echo"})
	var echo *Message[string]
	echo = AddMessage(ch2, cenc.String, func(v string) error {
		ev.add("echo %s", v)
		return echo.Send(strings.ToUpper(v))
	})
	ch2.Open(nil)
	if got := readFrame(t, raw); got != "000103046563686f00" {
		t.Fatalf("echo open %s", got)
	}
	writeFrame(t, raw, "0000"+"00"+"08"+"010104"+"6563686f00"+"0001"+"03000178"+"03000179")
	ev.expect(t, "echo x", "echo y")
	if got, want := readFrame(t, raw), "0000"+"03"+"03000158"+"03000159"; got != want {
		t.Fatalf("reply batch %s, want %s", got, want)
	}
}

func TestPairOnDemand(t *testing.T) {
	a, b := muxPair(t)
	evA, evB := newEvents(), newEvents()
	created := make(chan *Channel, 1)
	b.Pair("test", nil, func(id []byte) {
		evB.add("pair %x", id)
		ch, _, _ := testChannel(t, b, "b", id, evB)
		ch.Open([]byte("accept"))
		created <- ch
	})
	ca, sa, ua := testChannel(t, a, "a", []byte("key"), evA)
	ca.Open([]byte("hello"))
	sa.Send("one")
	ua.Send(2)
	evB.expect(t, "pair 6b6579", `b open "hello"`, "b string one", "b uint 2")
	evA.expect(t, `a open "accept"`)
	cb := <-created
	cb.Close()
	evB.expect(t, "b close remote=false")
	evA.expect(t, "a close remote=true")

	// Unpair: the next open of the key is rejected.
	b.Unpair("test", nil)
	cc, _, _ := testChannel(t, a, "a", []byte("key"), evA)
	cc.Open(nil)
	evA.expect(t, "a close remote=true")
	evB.none(t)
	if a.Opened("test", []byte("key")) {
		t.Fatal("rejected channel still opened")
	}
}

// TestDeferRead registers a Pair function after New but before Start: the
// remote's open, already on the wire, pairs instead of being rejected.
func TestDeferRead(t *testing.T) {
	sa, sb := Pipe()
	a, b := New(sa, nil), New(sb, &Options{DeferRead: true})
	t.Cleanup(func() { a.Close(); b.Close() })
	evA, evB := newEvents(), newEvents()
	ca, _, _ := testChannel(t, a, "a", []byte("key"), evA)
	ca.Open([]byte("hello"))
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Pair("test", nil, func(id []byte) {
		evB.add("pair %x", id)
		ch, _, _ := testChannel(t, b, "b", id, evB)
		ch.Open(nil)
	})
	evB.none(t)
	b.Start()
	b.Start() // idempotent
	evB.expect(t, "pair 6b6579", `b open "hello"`)
	evA.expect(t, `a open ""`)
}

// TestDeferReadClose closes a mux that never started reading.
func TestDeferReadClose(t *testing.T) {
	sa, sb := Pipe()
	defer sb.Close()
	m := New(sa, &Options{DeferRead: true})
	done := make(chan struct{})
	go func() { m.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Close of an unstarted mux hangs")
	}
	m.Start() // after the end: does nothing
}

// TestPairOpenLater pairs a remote open with a channel that is opened after
// the Pair function returned: the remote's messages wait in order.
func TestPairOpenLater(t *testing.T) {
	a, b := muxPair(t)
	evA, evB := newEvents(), newEvents()
	created := make(chan *Channel, 1)
	b.Pair("test", []byte{7}, func(id []byte) {
		ch, _, _ := testChannel(t, b, "b", id, evB)
		created <- ch
	})
	ca, sa, _ := testChannel(t, a, "a", []byte{7}, evA)
	ca.Open(nil)
	for i := range 5 {
		sa.Send(fmt.Sprint(i))
	}
	cb := <-created
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	evB.none(t)
	cb.Open(nil)
	evB.expect(t, `b open ""`, "b string 0", "b string 1", "b string 2", "b string 3", "b string 4")
	evA.expect(t, `a open ""`)
}

// TestPairCloseUnopened closes a channel created for a remote open before
// opening it: the remote's open is rejected.
func TestPairCloseUnopened(t *testing.T) {
	a, b := muxPair(t)
	evA, evB := newEvents(), newEvents()
	b.Pair("test", nil, func(id []byte) {
		ch, _, _ := testChannel(t, b, "b", id, evB)
		ch.Close()
	})
	ca, _, _ := testChannel(t, a, "a", nil, evA)
	ca.Open(nil)
	evB.expect(t, "b close remote=false")
	evA.expect(t, "a close remote=true")
}

func TestRejectFreesID(t *testing.T) {
	m, raw := rawMux(t)
	ev := newEvents()
	ch, _, _ := testChannel(t, m, "go", nil, ev)
	ch.Open(nil)
	readFrame(t, raw)
	// Closed before the remote answered: the id stays taken until it does.
	ch.Close()
	if got := readFrame(t, raw); got != "000301" {
		t.Fatalf("close %s", got)
	}
	ev.expect(t, "go close remote=false")
	c2, _, _ := testChannel(t, m, "go", nil, ev)
	c2.Open(nil)
	if got := readFrame(t, raw); got != "0001020474657374"+"00" {
		t.Fatalf("open while id 1 is unanswered: %s", got)
	}
	writeFrame(t, raw, "000201") // reject of id 1 frees it
	writeFrame(t, raw, "000202") // reject of id 2 closes c2
	ev.expect(t, "go close remote=true")
	c3, _ := m.CreateChannel(ChannelOptions{Protocol: "x"})
	c3.Open(nil)
	if got := readFrame(t, raw); got != "000102017800" {
		t.Fatalf("open after rejects: %s, want id 2 (most recently freed)", got)
	}
	c4, _ := m.CreateChannel(ChannelOptions{Protocol: "y"})
	c4.Open(nil)
	if got := readFrame(t, raw); got != "000101017900" {
		t.Fatalf("open after rejects: %s, want id 1", got)
	}
}

func TestRemoteRejectsUnknown(t *testing.T) {
	a, b := muxPair(t)
	ev := newEvents()
	ch, s, _ := testChannel(t, a, "a", nil, ev)
	ch.Open(nil)
	s.Send("dropped")
	ev.expect(t, "a close remote=true")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := ch.WaitOpen(ctx); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("WaitOpen of a rejected channel: %v", err)
	}
	if a.Err() != nil || b.Err() != nil {
		t.Fatalf("mux errors after reject: %v, %v", a.Err(), b.Err())
	}
}

func TestAliases(t *testing.T) {
	a, b, release := gatedPair(t)
	ev := newEvents()
	mk := func(m *Mux, tag, proto, alias string) *Channel {
		ch, err := m.CreateChannel(ChannelOptions{
			Protocol: proto, Aliases: []string{alias}, ID: []byte{5},
			OnOpen: func(*Channel, []byte) error { ev.add("%s open", tag); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	ca := mk(a, "a", "hypercore/alpha", "hypercore")
	cb := mk(b, "b", "hypercore", "hypercore/alpha")
	ca.Open(nil)
	cb.Open(nil)
	release()
	got := []string{<-ev.c, <-ev.c}
	if !(got[0] == "a open" && got[1] == "b open" || got[0] == "b open" && got[1] == "a open") {
		t.Fatalf("events %v", got)
	}
	if !a.Opened("hypercore", []byte{5}) || !a.Opened("hypercore/alpha", []byte{5}) {
		t.Fatal("Opened through alias")
	}
}

func TestAllowDuplicate(t *testing.T) {
	a, b := muxPair(t)
	evA, evB := newEvents(), newEvents()
	b.Pair("dup", nil, func(id []byte) {
		ch, err := b.CreateChannel(ChannelOptions{Protocol: "dup", AllowDuplicate: true,
			OnOpen: func(*Channel, []byte) error { evB.add("b open"); return nil }})
		if err != nil {
			t.Error(err)
			return
		}
		ch.Open(nil)
	})
	for range 2 {
		ch, err := a.CreateChannel(ChannelOptions{Protocol: "dup", AllowDuplicate: true,
			OnOpen: func(*Channel, []byte) error { evA.add("a open"); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		ch.Open(nil)
	}
	// The two sides' callbacks run on different goroutines: each side's
	// order is fixed, their interleaving is not.
	evB.expect(t, "b open", "b open")
	evA.expect(t, "a open", "a open")
}

func TestMuxClose(t *testing.T) {
	a, b, release := gatedPair(t)
	ev, evB := newEvents(), newEvents()
	ca, _, _ := testChannel(t, a, "a", nil, ev)
	cb, _, _ := testChannel(t, b, "b", nil, evB)
	unopened, _ := a.CreateChannel(ChannelOptions{Protocol: "never",
		OnClose: func(_ *Channel, remote bool) { ev.add("never close remote=%v", remote) }})
	ca.Open(nil)
	cb.Open(nil)
	release()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ca.WaitOpen(ctx)
	cb.WaitOpen(ctx)
	ev.expect(t, `a open ""`)
	evB.expect(t, `b open ""`)
	a.Close()
	if err := a.Err(); !errors.Is(err, ErrClosed) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Err after Close: %v", err)
	}
	got := []string{<-ev.c, <-ev.c}
	if fmt.Sprint(got) != "[a close remote=true never close remote=true]" &&
		fmt.Sprint(got) != "[never close remote=true a close remote=true]" {
		t.Fatalf("close events %v", got)
	}
	if !unopened.Closed() {
		t.Fatal("unopened channel not closed by mux Close")
	}
	evB.expect(t, "b close remote=true")
	<-b.Done()
	if err := b.Err(); !errors.Is(err, io.EOF) {
		t.Fatalf("remote's Err: %v, want io.EOF", err)
	}
	if _, err := a.CreateChannel(ChannelOptions{Protocol: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("CreateChannel after Close: %v", err)
	}
	if err := ca.Open(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := a.Flush(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
	a.Close()
}

func TestHandlerErrorDestroys(t *testing.T) {
	a, b := muxPair(t)
	boom := errors.New("boom")
	b.Pair("p", nil, func(id []byte) {
		ch, _ := b.CreateChannel(ChannelOptions{Protocol: "p"})
		AddMessage(ch, cenc.Uint, func(v uint64) error {
			if v == 2 {
				return boom
			}
			return nil
		})
		ch.Open(nil)
	})
	ch, _ := a.CreateChannel(ChannelOptions{Protocol: "p"})
	s := AddMessage(ch, cenc.Uint, nil)
	ch.Open(nil)
	s.Send(1)
	s.Send(2)
	<-b.Done()
	if !errors.Is(b.Err(), boom) {
		t.Fatalf("Err %v, want boom", b.Err())
	}
	<-a.Done()
}

func TestOnOpenErrorDestroys(t *testing.T) {
	a, b := muxPair(t)
	bad := errors.New("bad capability")
	b.Pair("p", nil, func(id []byte) {
		ch, _ := b.CreateChannel(ChannelOptions{Protocol: "p",
			OnOpen: func(_ *Channel, hs []byte) error {
				if string(hs) != "ok" {
					return bad
				}
				return nil
			}})
		ch.Open(nil)
	})
	ch, _ := a.CreateChannel(ChannelOptions{Protocol: "p"})
	ch.Open([]byte("nope"))
	<-b.Done()
	if !errors.Is(b.Err(), bad) {
		t.Fatalf("Err %v", b.Err())
	}
}

func TestUndecodableMessageDestroys(t *testing.T) {
	m, raw := rawMux(t)
	ev := newEvents()
	ch, _, _ := testChannel(t, m, "go", nil, ev)
	ch.Open(nil)
	readFrame(t, raw)
	writeFrame(t, raw, "00010104746573740000")
	ev.expect(t, `go open "\x00"`)
	writeFrame(t, raw, "0100") // string with no length: cannot decode
	<-m.Done()
	if !errors.Is(m.Err(), ErrProtocol) || !errors.Is(m.Err(), cenc.ErrOutOfBounds) {
		t.Fatalf("Err %v", m.Err())
	}
	ev.expect(t, "go close remote=true")
}

// TestReceiveRules feeds frames to a mux and checks which end it, as
// protomux 3.12.1 does (TestInteropMalformedFrames checks the same list
// against JS).
func TestReceiveRules(t *testing.T) {
	for _, tc := range malformedFrames {
		t.Run(tc.hex, func(t *testing.T) {
			m, raw := rawMux(t)
			destroyed := feedAndProbe(t, m, raw, tc.hex)
			if destroyed != tc.destroys {
				t.Fatalf("destroyed=%v (err %v), want %v", destroyed, m.Err(), tc.destroys)
			}
			if destroyed && !errors.Is(m.Err(), ErrProtocol) {
				t.Fatalf("Err %v, want ErrProtocol", m.Err())
			}
		})
	}
}

// malformedFrames lists frames, odd or malformed, with whether protomux
// 3.12.1 destroys the stream on them. The probe sent after each is an open
// of protocol "ok" with id 1.
var malformedFrames = []struct {
	hex      string
	destroys bool
}{
	{"00", true},                     // control frame without type
	{"05", true},                     // message without type
	{"ffffffffffffffffff00", true},   // channel above 2^53-1
	{"0100", false},                  // unknown channel
	{"0105ff", false},                // unknown channel and type
	{"0004", false},                  // unknown control type
	{"00ff0000000000000000", true},   // type 0 (batch) written wide, with nothing after
	{"000101017800", false},          // open "x", rejected
	{"000101017800aabbcc", false},    // open "x" with a handshake
	{"0001010178020101", false},      // open "x" with an id
	{"000100017800", true},           // open of channel 0
	{"000102017800", true},           // open skipping id 1
	{"0001fd0001017800", true},       // open of channel 256
	{"0001", true},                   // open without fields
	{"00010101", true},               // open with a cut protocol
	{"0001010178", true},             // open without id
	{"000101017805", true},           // open with a cut id
	{"000201", true},                 // reject of an unknown channel
	{"0002", true},                   // reject without id
	{"000301", false},                // close of an unknown channel
	{"000300", false},                // close of channel 0
	{"0003", true},                   // close without id
	{"000000", false},                // empty batch
	{"0000", true},                   // batch without channel
	{"0000ff", true},                 // batch with a cut channel
	{"0000000100", true},             // nested batch without channel
	{"000000050101017800", false},    // batch holding an open
	{"000000090101017800", false},    // batch entry longer than the batch
	{"00000005010101780005", true},   // batch entry with nothing left
	{"0000010400616201", false},      // batch for an unknown channel
	{"000000020001", false},          // empty nested batch
	{"000101017800" + "0100", false}, // not a second frame: trailing bytes in the open's handshake
	{"fd0100", true},                 // non-minimal channel, no type
	{"fd010000", false},              // non-minimal channel 1
	{"0000000601fd0001017800", true}, // open of 256 inside a batch
	{"000000020201", true},           // batch holding a reject of an unknown channel
	{"00fd0400", false},              // unknown control type, non-minimal
}

// feedAndProbe writes frame and then an open of "ok" id 1 to m, and reports
// whether m ended instead of pairing the probe.
func feedAndProbe(t *testing.T, m *Mux, raw Stream, frame string) bool {
	t.Helper()
	paired := make(chan struct{}, 1)
	m.Pair("ok", nil, func([]byte) { paired <- struct{}{} })
	go func() { // the mux writes rejects; keep reading them
		for {
			if _, err := raw.ReadMessage(); err != nil {
				return
			}
		}
	}()
	raw.WriteMessage(mustHex(t, frame))
	raw.WriteMessage(mustHex(t, "00010102"+hex.EncodeToString([]byte("ok"))+"00"))
	select {
	case <-paired:
		return false
	case <-m.Done():
		return true
	case <-time.After(waitTimeout):
		t.Fatal("neither paired nor destroyed")
		return false
	}
}

// TestSlowHandlerBackpressure checks that a blocked handler stops the mux
// reading instead of buffering: the sender's queue backs up.
func TestSlowHandlerBackpressure(t *testing.T) {
	sa, sb := Pipe()
	a := New(sa, &Options{HighWaterMark: 4 << 10})
	b := New(sb, nil)
	defer a.Close()
	defer b.Close()
	release := make(chan struct{})
	got := make(chan uint64, 4096)
	b.Pair("slow", nil, func([]byte) {
		ch, _ := b.CreateChannel(ChannelOptions{Protocol: "slow"})
		var first sync.Once
		AddMessage(ch, cenc.Raw, func(p []byte) error {
			first.Do(func() { <-release })
			got <- uint64(len(p))
			return nil
		})
		ch.Open(nil)
	})
	ch, _ := a.CreateChannel(ChannelOptions{Protocol: "slow"})
	s := AddMessage(ch, cenc.Raw, nil)
	ch.Open(nil)
	payload := make([]byte, 1024)
	for range 1000 {
		s.Send(payload)
	}
	// Nothing is consumed while the first handler blocks, so the pipe and
	// read-ahead fill and a's queue stays above its high-water mark.
	time.Sleep(50 * time.Millisecond)
	if a.Drained() {
		t.Fatal("sender drained while the receiver's handler is blocked")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if err := a.WaitDrained(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitDrained: %v", err)
	}
	cancel()
	close(release)
	ctx, cancel = context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatal("messages lost")
		}
	}
}

// TestParkedBufferLimit checks that messages held for a paired, unopened
// channel stop the mux reading past 32 KiB, and flow again on Open.
func TestParkedBufferLimit(t *testing.T) {
	a, b := muxPair(t)
	created := make(chan *Channel, 1)
	var n int
	var mu sync.Mutex
	b.Pair("park", nil, func([]byte) {
		ch, _ := b.CreateChannel(ChannelOptions{Protocol: "park"})
		AddMessage(ch, cenc.Raw, func([]byte) error { mu.Lock(); n++; mu.Unlock(); return nil })
		created <- ch
	})
	ch, _ := a.CreateChannel(ChannelOptions{Protocol: "park"})
	s := AddMessage(ch, cenc.Raw, nil)
	ch.Open(nil)
	const count = 200
	payload := make([]byte, 1024)
	for range count {
		s.Send(payload)
	}
	cb := <-created
	time.Sleep(50 * time.Millisecond)
	b.mu.Lock()
	buffered := b.buffered
	b.mu.Unlock()
	// The mux stops after the message that crossed the limit.
	if limit := maxBuffered + bufferedOverhead + len(payload); buffered > limit || buffered <= maxBuffered {
		t.Fatalf("buffered %d bytes, want just over %d", buffered, maxBuffered)
	}
	a.mu.Lock()
	queued := a.queued
	a.mu.Unlock()
	if queued == 0 {
		t.Fatal("sender's queue emptied although the receiver stopped reading")
	}
	cb.Open(nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		mu.Lock()
		done := n == count
		mu.Unlock()
		if done {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("delivered %d of %d", n, count)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSkipMessage(t *testing.T) {
	a, b := muxPair(t)
	ev := newEvents()
	b.Pair("s", nil, func([]byte) {
		ch, _ := b.CreateChannel(ChannelOptions{Protocol: "s"})
		ch.SkipMessage()
		AddMessage(ch, cenc.String, func(v string) error { ev.add("got %s", v); return nil })
		ch.Open(nil)
	})
	ch, _ := a.CreateChannel(ChannelOptions{Protocol: "s"})
	m0 := AddMessage(ch, cenc.String, nil)
	m1 := AddMessage(ch, cenc.String, nil)
	m2 := AddMessage(ch, cenc.String, nil) // unknown to b: ignored
	if m1.Type() != 1 || m1.Channel() != ch {
		t.Fatal("Type or Channel")
	}
	ch.Open(nil)
	m0.Send("skipped")
	m2.Send("unknown")
	m1.Send("kept")
	ev.expect(t, "got kept")
	ev.none(t)
}

func TestPipe(t *testing.T) {
	a, b := Pipe()
	msg := []byte("x")
	a.WriteMessage(msg)
	msg[0] = 'y' // WriteMessage copied
	a.Close()
	if p, err := b.ReadMessage(); err != nil || !bytes.Equal(p, []byte("x")) {
		t.Fatalf("read %q, %v", p, err)
	}
	if _, err := b.ReadMessage(); err != io.EOF {
		t.Fatalf("read after peer close: %v", err)
	}
	if _, err := a.ReadMessage(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := b.WriteMessage(msg); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("write after peer close: %v", err)
	}
	b.Close()
}

// reusingStream returns every message in the same buffer, as
// secretstream.Conn may.
type reusingStream struct {
	Stream
	buf []byte
}

func (r *reusingStream) ReadMessage() ([]byte, error) {
	p, err := r.Stream.ReadMessage()
	if err != nil {
		return nil, err
	}
	r.buf = append(r.buf[:0], p...)
	return r.buf, nil
}

// TestReusedReadBuffer checks that values handlers keep survive a stream
// that reuses its read buffer, including messages held for a channel that
// opens later.
func TestReusedReadBuffer(t *testing.T) {
	sa, sb := Pipe()
	a, b := New(sa, nil), New(&reusingStream{Stream: sb}, nil)
	defer a.Close()
	defer b.Close()
	var kept [][]byte
	created := make(chan *Channel, 1)
	all := make(chan struct{})
	b.Pair("keep", nil, func([]byte) {
		ch, _ := b.CreateChannel(ChannelOptions{Protocol: "keep"})
		AddMessage(ch, cenc.Buffer, func(v []byte) error {
			if kept = append(kept, v); len(kept) == 20 {
				close(all)
			}
			return nil
		})
		created <- ch
	})
	ch, _ := a.CreateChannel(ChannelOptions{Protocol: "keep"})
	s := AddMessage(ch, cenc.Buffer, nil)
	ch.Open(nil)
	for i := range 20 {
		s.Send(bytes.Repeat([]byte{byte(i)}, 10))
	}
	cb := <-created
	a.Flush(context.Background())
	cb.Open(nil)
	select {
	case <-all:
	case <-time.After(waitTimeout):
		t.Fatal("timed out")
	}
	for i, v := range kept {
		if want := bytes.Repeat([]byte{byte(i)}, 10); !bytes.Equal(v, want) {
			t.Fatalf("kept value %d is %x, want %x", i, v, want)
		}
	}
}

// lyingCodec is cenc.String with a Len off by delta.
type lyingCodec struct{ delta int }

func (c lyingCodec) Len(v string) int               { return cenc.String.Len(v) + c.delta }
func (lyingCodec) Append(b []byte, v string) []byte { return cenc.String.Append(b, v) }
func (lyingCodec) Decode(d *cenc.Decoder) string    { return cenc.String.Decode(d) }

// TestCorkBatchCodecLen sends corked messages whose codec's Len is wrong:
// the batch encodes them straight into the frame after their length, so
// it must notice and still frame them right.
func TestCorkBatchCodecLen(t *testing.T) {
	m, raw := rawMux(t)
	ch, _ := m.CreateChannel(ChannelOptions{Protocol: "two"})
	short := AddMessage(ch, cenc.Codec[string](lyingCodec{-1}), nil)
	long := AddMessage(ch, cenc.Codec[string](lyingCodec{+2}), nil)
	ch.Open(nil)
	if got := readFrame(t, raw); got != "0001010374776f00" {
		t.Fatalf("open %s", got)
	}
	m.Cork()
	short.Send("a")
	long.Send("bc")
	short.Send("d")
	m.Uncork()
	want := "0000" + "01" + "03" + "000161" + "04" + "01026263" + "03" + "000164"
	if got := readFrame(t, raw); got != want {
		t.Fatalf("batch\n got %s\nwant %s", got, want)
	}

	// Large messages grow the batch frame past its buffer, some of them
	// taken back and framed again.
	var sent []string
	m.Cork()
	for i := range 12 {
		v := strings.Repeat(string(rune('a'+i)), 3000*(i+1))
		sent = append(sent, v)
		if i%2 == 0 {
			short.Send(v)
		} else {
			long.Send(v)
		}
	}
	m.Uncork()
	p, err := raw.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = parseFrame(p, func(channel, typ uint64, payload []byte) error {
		var d cenc.Decoder
		d.Reset(payload)
		got = append(got, cenc.String.Decode(&d))
		return d.Err()
	})
	if err != nil || !slices.Equal(got, sent) {
		t.Fatalf("large batch: %d messages, err %v; want the %d sent", len(got), err, len(sent))
	}
}

// TestTransientMessages: over a stream that reuses its read buffer, the
// values of AddMessage types stay intact after their handler returns,
// while those of AddTransientMessage types alias the frame.
func TestTransientMessages(t *testing.T) {
	sa, sb := Pipe()
	a, b := New(sa, nil), New(&reusingStream{Stream: sb}, nil)
	t.Cleanup(func() { a.Close(); b.Close() })

	type got struct {
		kept      [][]byte
		transient []string
		aliased   [][]byte
	}
	var mu sync.Mutex
	var g got
	done := make(chan struct{})
	open := func(m *Mux, recv bool) (*Message[[]byte], *Message[[]byte]) {
		ch, err := m.CreateChannel(ChannelOptions{Protocol: "transient"})
		if err != nil {
			t.Fatal(err)
		}
		var keep, borrow func([]byte) error
		if recv {
			keep = func(p []byte) error {
				mu.Lock()
				defer mu.Unlock()
				g.kept = append(g.kept, p)
				return nil
			}
			borrow = func(p []byte) error {
				mu.Lock()
				defer mu.Unlock()
				g.transient = append(g.transient, string(p))
				g.aliased = append(g.aliased, p)
				if len(g.transient) == 20 {
					close(done)
				}
				return nil
			}
		}
		mk := AddMessage(ch, cenc.Raw, keep)
		mt := AddTransientMessage(ch, cenc.Raw, borrow)
		if err := ch.Open(nil); err != nil {
			t.Fatal(err)
		}
		return mk, mt
	}
	open(b, true)
	mk, mt := open(a, false)
	for i := range 20 {
		if err := mk.Send([]byte(fmt.Sprintf("kept %02d", i))); err != nil {
			t.Fatal(err)
		}
		if err := mt.Send([]byte(fmt.Sprintf("lent %02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("timed out")
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range 20 {
		if want := fmt.Sprintf("kept %02d", i); string(g.kept[i]) != want {
			t.Errorf("kept message %d is %q after later frames, want %q", i, g.kept[i], want)
		}
		if want := fmt.Sprintf("lent %02d", i); g.transient[i] != want {
			t.Errorf("transient message %d was %q in its handler, want %q", i, g.transient[i], want)
		}
	}
	// The first transient value aliased the stream's buffer, which later
	// frames overwrote: no copy was made.
	if string(g.aliased[0]) == "lent 00" {
		t.Error("the transient message was copied out of the frame")
	}
}
