package secretstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/secretstream/internal/sodiumstream"
)

// jsVectors is what interop/secretstream/vectors.js prints (the parts this
// package checks; package noise checks the handshakes).
type jsVectors struct {
	Sodium struct {
		Key      string `json:"key"`
		Header   string `json:"header"`
		Messages []struct {
			Plain  string `json:"plain"`
			Tag    byte   `json:"tag"`
			Cipher string `json:"cipher"`
		} `json:"messages"`
	} `json:"sodium"`
	Hello struct {
		Header string `json:"header"`
		Cipher string `json:"cipher"`
	} `json:"hello"`
	StreamIDs struct {
		Hash      string `json:"hash"`
		Initiator string `json:"initiator"`
		Responder string `json:"responder"`
	} `json:"streamIds"`
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInteropVectors(t *testing.T) {
	var v jsVectors
	jsref.JSON(t, nil, &v, "secretstream/vectors.js", "vectors")
	key := [32]byte(unhex(t, v.Sodium.Key))

	t.Run("JS push, Go pull", func(t *testing.T) {
		q := sodiumstream.NewPull(&key, (*[24]byte)(unhex(t, v.Sodium.Header)))
		for i, m := range v.Sodium.Messages {
			plain, tag, err := q.Pull(nil, unhex(t, m.Cipher))
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if hex.EncodeToString(plain) != m.Plain || tag != m.Tag {
				t.Fatalf("message %d = %x tag %d, want %s tag %d", i, plain, tag, m.Plain, m.Tag)
			}
		}
		q = sodiumstream.NewPull(&key, (*[24]byte)(unhex(t, v.Hello.Header)))
		if plain, tag, err := q.Pull(nil, unhex(t, v.Hello.Cipher)); err != nil || string(plain) != "hello" || tag != 0 {
			t.Fatalf("sodium-secretstream 'hello' = %q tag %d, %v", plain, tag, err)
		}
	})

	t.Run("Go push, JS pull", func(t *testing.T) {
		var header [24]byte
		header[0] = 9
		p := sodiumstream.NewPush(&key, &header)
		in := struct {
			Key      string   `json:"key"`
			Header   string   `json:"header"`
			Messages []string `json:"messages"`
		}{Key: v.Sodium.Key, Header: hex.EncodeToString(header[:])}
		var want []string
		var tags []byte
		for i, n := range []int{0, 1, 64, 1000, 70000, 7} {
			m := bytes.Repeat([]byte{byte(i + 1)}, n)
			tag := byte(i % 4)
			in.Messages = append(in.Messages, hex.EncodeToString(p.Push(nil, m, tag)))
			want = append(want, hex.EncodeToString(m))
			tags = append(tags, tag)
		}
		var out struct {
			Messages []struct {
				Plain string `json:"plain"`
				Tag   byte   `json:"tag"`
			} `json:"messages"`
		}
		jsref.JSON(t, in, &out, "secretstream/vectors.js", "pull")
		if len(out.Messages) != len(want) {
			t.Fatalf("JS pulled %d messages, want %d", len(out.Messages), len(want))
		}
		for i, m := range out.Messages {
			if m.Plain != want[i] || m.Tag != tags[i] {
				t.Errorf("message %d: JS pulled %.40s... tag %d, want %.40s... tag %d", i, m.Plain, m.Tag, want[i], tags[i])
			}
		}
	})

	t.Run("stream ids", func(t *testing.T) {
		hash := [64]byte(unhex(t, v.StreamIDs.Hash))
		if got := streamID(&hash, true); hex.EncodeToString(got[:]) != v.StreamIDs.Initiator {
			t.Errorf("initiator id = %x, want %s", got, v.StreamIDs.Initiator)
		}
		if got := streamID(&hash, false); hex.EncodeToString(got[:]) != v.StreamIDs.Responder {
			t.Errorf("responder id = %x, want %s", got, v.StreamIDs.Responder)
		}
	})
}

// jsEvent is one line printed by interop/secretstream/peer.js.
type jsEvent struct {
	Event           string `json:"event"`
	Port            int    `json:"port"`
	PublicKey       string `json:"publicKey"`
	RemotePublicKey string `json:"remotePublicKey"`
	Hash            string `json:"hash"`
	Sent            string `json:"sent"`
	Received        string `json:"received"`
	ReceivedBytes   int64  `json:"receivedBytes"`
	Data            string `json:"data"`
	Message         string `json:"message"`
	Code            string `json:"code"`
	Length          int    `json:"length"`
}

// jsPeer is a JS secret-stream peer connected to a Go Conn.
type jsPeer struct {
	proc   *jsref.Proc
	events []jsEvent // every event read so far
}

// next reads events until one named name, and returns it.
func (p *jsPeer) next(t *testing.T, name string) jsEvent {
	t.Helper()
	for {
		var ev jsEvent
		p.proc.Recv(&ev)
		p.events = append(p.events, ev)
		if ev.Event == name {
			return ev
		}
		if ev.Event == "close" {
			t.Fatalf("JS stream closed while waiting for %q; events: %+v", name, p.events)
		}
	}
}

func (p *jsPeer) saw(name string) bool {
	for _, ev := range p.events {
		if ev.Event == name {
			return true
		}
	}
	return false
}

// connectJS connects a Go Conn (initiator if goInitiator) to a JS peer
// started with jsOpts over loopback TCP, and checks that both sides agree
// on the keys and the handshake hash.
func connectJS(t *testing.T, goInitiator bool, jsOpts map[string]any, goOpts *Options) (*Conn, *jsPeer) {
	t.Helper()
	if goOpts == nil {
		goOpts = &Options{}
	}
	goOpts.PrivateKey = seeded(11)
	jsOpts["keySeed"] = 22
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var c *Conn
	var p *jsPeer
	if goInitiator {
		jsOpts["role"] = "responder"
		p = &jsPeer{proc: jsref.Start(t, "secretstream/peer.js", mustJSON(t, jsOpts))}
		port := p.next(t, "listening").Port
		tcp, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		if c, err = Client(ctx, tcp, goOpts); err != nil {
			t.Fatalf("Client: %v", err)
		}
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		jsOpts["role"] = "initiator"
		jsOpts["port"] = l.Addr().(*net.TCPAddr).Port
		p = &jsPeer{proc: jsref.Start(t, "secretstream/peer.js", mustJSON(t, jsOpts))}
		tcp, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if c, err = Server(ctx, tcp, goOpts); err != nil {
			t.Fatalf("Server: %v", err)
		}
	}
	t.Cleanup(func() { c.Close() })

	hs := p.next(t, "handshake")
	goKey, jsKey := c.PublicKey(), [32]byte(seeded(22)[32:])
	remote, hash := c.RemotePublicKey(), c.HandshakeHash()
	for _, check := range []struct {
		name      string
		got, want string
	}{
		{"JS remotePublicKey vs Go PublicKey", hs.RemotePublicKey, hex.EncodeToString(goKey[:])},
		{"JS publicKey vs Go RemotePublicKey", hs.PublicKey, hex.EncodeToString(remote[:])},
		{"JS publicKey vs its seed", hs.PublicKey, hex.EncodeToString(jsKey[:])},
		{"JS handshakeHash vs Go HandshakeHash", hs.Hash, hex.EncodeToString(hash[:])},
	} {
		if check.got != check.want {
			t.Errorf("%s: %s, want %s", check.name, check.got, check.want)
		}
	}
	return c, p
}

func mustJSON(t *testing.T, v map[string]any) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for k, val := range v {
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q:", k)
		switch x := val.(type) {
		case string:
			fmt.Fprintf(&b, "%q", x)
		default:
			fmt.Fprintf(&b, "%v", x)
		}
	}
	b.WriteByte('}')
	return b.String()
}

func roles(t *testing.T, f func(t *testing.T, goInitiator bool)) {
	t.Run("Go initiator", func(t *testing.T) { f(t, true) })
	t.Run("JS initiator", func(t *testing.T) { f(t, false) })
}

func TestInteropBulk(t *testing.T) {
	size := 100 << 20
	if raceEnabled || testing.Short() {
		size = 16 << 20
	}
	roles(t, func(t *testing.T, goInitiator bool) {
		c, p := connectJS(t, goInitiator, map[string]any{"mode": "bulk", "size": size}, nil)
		start := time.Now()
		var wg sync.WaitGroup
		var sentSum, gotSum [32]byte
		var got int64
		var readErr, writeErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			h := sha256.New()
			rng := rand.NewChaCha8([32]byte{1})
			buf := make([]byte, 128<<10)
			for left := size; left > 0; {
				n := min(left, 1+int(rng.Uint64()%uint64(len(buf))))
				rng.Read(buf[:n])
				h.Write(buf[:n])
				if _, err := c.Write(buf[:n]); err != nil {
					writeErr = err
					return
				}
				left -= n
			}
			writeErr = c.CloseWrite()
			h.Sum(sentSum[:0])
		}()
		go func() {
			defer wg.Done()
			h := sha256.New()
			got, readErr = io.Copy(h, c)
			h.Sum(gotSum[:0])
		}()
		wg.Wait()
		elapsed := time.Since(start)
		if writeErr != nil || readErr != nil {
			t.Fatalf("write error %v, read error %v", writeErr, readErr)
		}
		done := p.next(t, "done")
		if got != int64(size) || done.ReceivedBytes != int64(size) {
			t.Errorf("Go received %d bytes, JS received %d; want %d each", got, done.ReceivedBytes, size)
		}
		if done.Received != hex.EncodeToString(sentSum[:]) {
			t.Errorf("sha256 of what JS received %s, of what Go sent %x", done.Received, sentSum)
		}
		if done.Sent != hex.EncodeToString(gotSum[:]) {
			t.Errorf("sha256 of what JS sent %s, of what Go received %x", done.Sent, gotSum)
		}
		t.Logf("%d MiB each way in %v (%.0f MB/s each way)", size>>20, elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6)
	})
}

func TestInteropMessages(t *testing.T) {
	roles(t, func(t *testing.T, goInitiator bool) {
		c, _ := connectJS(t, goInitiator, map[string]any{"mode": "echo"}, nil)
		sizes := []int{1, 17, 100, 65536, 1 << 20, 3 << 20, 2}
		go func() {
			for i, n := range sizes {
				if err := c.WriteMessage(bytes.Repeat([]byte{byte(i + 1)}, n)); err != nil {
					t.Errorf("WriteMessage: %v", err)
					return
				}
			}
		}()
		for i, n := range sizes {
			msg, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			if !bytes.Equal(msg, bytes.Repeat([]byte{byte(i + 1)}, n)) {
				t.Fatalf("echoed message %d: %d bytes, want %d bytes of %d", i, len(msg), n, i+1)
			}
		}
	})
}

func TestInteropHalfClose(t *testing.T) {
	roles(t, func(t *testing.T, goInitiator bool) {
		t.Run("JS ends first", func(t *testing.T) {
			c, p := connectJS(t, goInitiator, map[string]any{"mode": "end", "payload": "from js"}, nil)
			got, err := io.ReadAll(c)
			if err != nil || string(got) != "from js" {
				t.Fatalf("ReadAll = %q, %v; want \"from js\", nil (io.EOF at the JS end)", got, err)
			}
			if _, err := c.Write([]byte("from go")); err != nil {
				t.Fatalf("Write after the peer ended: %v", err)
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			if ev := p.next(t, "received"); ev.Data != "from go" {
				t.Errorf("JS received %q, want \"from go\"", ev.Data)
			}
		})
		t.Run("Go ends first", func(t *testing.T) {
			c, p := connectJS(t, goInitiator, map[string]any{"mode": "echo"}, nil)
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			p.next(t, "end")
			got, err := io.ReadAll(c)
			if err != nil || string(got) != "ping" {
				t.Fatalf("ReadAll = %q, %v; want the echo then io.EOF", got, err)
			}
		})
	})
}

func TestInteropDestroy(t *testing.T) {
	roles(t, func(t *testing.T, goInitiator bool) {
		t.Run("JS destroys", func(t *testing.T) {
			c, p := connectJS(t, goInitiator, map[string]any{"mode": "destroy", "after": 1 << 20, "payload": "x"}, nil)
			go io.Copy(io.Discard, c)
			c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			buf := make([]byte, 64<<10)
			var err error
			for err == nil {
				_, err = c.Write(buf)
			}
			if isTimeout(err) || errors.Is(err, net.ErrClosed) {
				t.Fatalf("Write to a destroyed JS stream = %v, want the transport's error", err)
			}
			p.next(t, "close")
		})
		t.Run("Go closes", func(t *testing.T) {
			c, p := connectJS(t, goInitiator, map[string]any{"mode": "flood"}, nil)
			if _, err := io.CopyN(io.Discard, c, 1<<20); err != nil {
				t.Fatal(err)
			}
			c.Close()
			p.next(t, "close")
			if !p.saw("error") || p.saw("end") {
				t.Errorf("JS events after Go closed mid-stream: %+v; want an error and no end", p.events)
			}
		})
	})
}

func TestInteropKeepAlive(t *testing.T) {
	roles(t, func(t *testing.T, goInitiator bool) {
		t.Run("JS keeps Go alive", func(t *testing.T) {
			c, _ := connectJS(t, goInitiator, map[string]any{"mode": "idle", "keepAlive": 40}, &Options{Timeout: 250 * time.Millisecond})
			deadline := time.Now().Add(time.Second)
			n := 0
			for time.Now().Before(deadline) {
				msg, err := c.ReadMessage()
				if err != nil {
					t.Fatalf("after %d keepalives: %v", n, err)
				}
				if len(msg) != 0 {
					t.Fatalf("got a %d-byte message, want keepalives (empty)", len(msg))
				}
				n++
			}
			if n < 10 {
				t.Errorf("%d keepalives in a second at 40ms, want more", n)
			}
		})
		t.Run("Go keeps JS alive", func(t *testing.T) {
			c, p := connectJS(t, goInitiator, map[string]any{"mode": "idle", "timeout": 250}, &Options{KeepAlive: 40 * time.Millisecond})
			time.Sleep(time.Second)
			if err := c.WriteMessage([]byte("x")); err != nil {
				t.Fatalf("after a second of keepalives: %v", err)
			}
			for {
				ev := p.next(t, "data")
				if ev.Length == 1 {
					break
				}
			}
			if p.saw("error") {
				t.Errorf("JS events: %+v; want no timeout", p.events)
			}
		})
		t.Run("JS times out without keepalives", func(t *testing.T) {
			_, p := connectJS(t, goInitiator, map[string]any{"mode": "idle", "timeout": 100}, nil)
			if ev := p.next(t, "error"); ev.Message != "Stream timed out" {
				t.Errorf("JS error %q, want \"Stream timed out\"", ev.Message)
			}
		})
	})
}
