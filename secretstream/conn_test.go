package secretstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

func TestKeysAndHash(t *testing.T) {
	client, server := pipePair(t, &Options{PrivateKey: seeded(1)}, &Options{PrivateKey: seeded(2)})
	if !client.IsInitiator() || server.IsInitiator() {
		t.Errorf("IsInitiator: client %v, server %v; want true, false", client.IsInitiator(), server.IsInitiator())
	}
	pk1, pk2 := [32]byte(seeded(1)[32:]), [32]byte(seeded(2)[32:])
	if client.PublicKey() != pk1 || server.RemotePublicKey() != pk1 {
		t.Errorf("client key: PublicKey %x, server's RemotePublicKey %x; want %x", client.PublicKey(), server.RemotePublicKey(), pk1)
	}
	if server.PublicKey() != pk2 || client.RemotePublicKey() != pk2 {
		t.Errorf("server key: PublicKey %x, client's RemotePublicKey %x; want %x", server.PublicKey(), client.RemotePublicKey(), pk2)
	}
	if client.HandshakeHash() != server.HandshakeHash() || client.HandshakeHash() == [64]byte{} {
		t.Errorf("handshake hashes %x and %x differ or are zero", client.HandshakeHash(), server.HandshakeHash())
	}
}

func TestMessages(t *testing.T) {
	client, server := pipePair(t, nil, nil)
	sizes := []int{1, 0, 16, 17, 1000, 65536, 70000, 1 << 20, 0, 5}
	go func() {
		for _, n := range sizes {
			if err := client.WriteMessage(bytes.Repeat([]byte{byte(n)}, n)); err != nil {
				t.Errorf("WriteMessage(%d bytes): %v", n, err)
				return
			}
		}
	}()
	for _, n := range sizes {
		msg, err := server.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if want := bytes.Repeat([]byte{byte(n)}, n); !bytes.Equal(msg, want) {
			t.Fatalf("ReadMessage = %d bytes, want %d bytes of %d", len(msg), n, byte(n))
		}
	}
}

func TestEmptyMessagesFiltered(t *testing.T) {
	client, server := pipePair(t, nil, &Options{FilterEmptyMessages: true})
	go func() {
		client.WriteMessage(nil)
		client.WriteMessage([]byte("a"))
		client.WriteMessage(nil)
		client.Write([]byte("bc"))
	}()
	msg, err := server.ReadMessage()
	if err != nil || string(msg) != "a" {
		t.Fatalf("ReadMessage = %q, %v; want \"a\"", msg, err)
	}
	buf := make([]byte, 10)
	n, err := server.Read(buf)
	if err != nil || string(buf[:n]) != "bc" {
		t.Fatalf("Read = %q, %v; want \"bc\"", buf[:n], err)
	}
}

func TestMaxMessageSize(t *testing.T) {
	const max = 1000
	for _, n := range []int{max - 1, max, max + 1} {
		t.Run(fmt.Sprintf("len=%d", n), func(t *testing.T) {
			client, server := pipePair(t, &Options{MaxMessageSize: max}, &Options{MaxMessageSize: max})
			var err error
			if n > max {
				err = client.WriteMessage(make([]byte, n))
				if !errors.Is(err, ErrMessageTooLarge) {
					t.Fatalf("WriteMessage(%d bytes) = %v, want ErrMessageTooLarge", n, err)
				}
				// Write splits instead.
				go client.Write(make([]byte, n))
				for _, want := range []int{max, n - max} {
					msg, err := server.ReadMessage()
					if err != nil || len(msg) != want {
						t.Fatalf("ReadMessage = %d bytes, %v; want %d", len(msg), err, want)
					}
				}
				return
			}
			go func() {
				if err != nil {
					return
				}
				err = client.WriteMessage(make([]byte, n))
			}()
			msg, rerr := server.ReadMessage()
			if rerr != nil || len(msg) != n {
				t.Fatalf("ReadMessage = %d bytes, %v; want %d", len(msg), rerr, n)
			}
		})
	}
	// A peer sending more than the receiver's limit is refused.
	client, server := pipePair(t, nil, &Options{MaxMessageSize: max})
	go client.WriteMessage(make([]byte, max+1))
	if _, err := server.ReadMessage(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("receiving %d bytes with a limit of %d: %v, want ErrFrameTooLarge", max+1, max, err)
	}
}

func TestProtocolMaxMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("16 MiB messages")
	}
	client, server := tcpPair(t, nil, nil)
	if err := client.WriteMessage(make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("WriteMessage(MaxMessageSize+1) = %v, want ErrMessageTooLarge", err)
	}
	go client.WriteMessage(make([]byte, MaxMessageSize))
	msg, err := server.ReadMessage()
	if err != nil || len(msg) != MaxMessageSize {
		t.Fatalf("ReadMessage = %d bytes, %v; want %d", len(msg), err, MaxMessageSize)
	}
}

func TestRemotePublicKey(t *testing.T) {
	pk1, pk2, pk3 := [32]byte(seeded(1)[32:]), [32]byte(seeded(2)[32:]), [32]byte(seeded(3)[32:])
	tests := []struct {
		name            string
		clientExpects   *[32]byte
		serverExpects   *[32]byte
		clientOK, srvOK bool
	}{
		{"both right", &pk2, &pk1, true, true},
		{"client expects another", &pk3, nil, false, false},
		{"server expects another", nil, &pk3, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			client, server, cerr, serr := handshakePair(t, a, b,
				&Options{PrivateKey: seeded(1), RemotePublicKey: tt.clientExpects},
				&Options{PrivateKey: seeded(2), RemotePublicKey: tt.serverExpects})
			for _, c := range []*Conn{client, server} {
				if c != nil {
					defer c.Close()
				}
			}
			if (cerr == nil) != tt.clientOK || (serr == nil) != tt.srvOK {
				t.Fatalf("client err %v, server err %v; want ok %v, %v", cerr, serr, tt.clientOK, tt.srvOK)
			}
			if tt.clientExpects == &pk3 && !errors.Is(cerr, ErrRemoteKey) {
				t.Errorf("client err = %v, want ErrRemoteKey", cerr)
			}
			if tt.serverExpects == &pk3 && !errors.Is(serr, ErrRemoteKey) {
				t.Errorf("server err = %v, want ErrRemoteKey", serr)
			}
		})
	}
}

func TestHandshakeContext(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	go io.Copy(io.Discard, b) // a peer that never answers
	_, err := Client(ctx, a, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrHandshake) {
		t.Fatalf("Client with a silent peer = %v, want ErrHandshake and context.DeadlineExceeded", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Client with a silent peer = %v, want a net.Error with Timeout() true", err)
	}
	if _, err := a.Write([]byte{0}); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("after a failed handshake, the transport is open: %v", err)
	}
}

func TestHandshakeTimeoutOption(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go io.Copy(io.Discard, b)
	_, err := Client(context.Background(), a, &Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Client with a silent peer and Timeout = %v, want ErrTimeout", err)
	}
}

func TestIdleTimeoutAndKeepAlive(t *testing.T) {
	t.Run("no keepalive", func(t *testing.T) {
		_, server := pipePair(t, nil, &Options{Timeout: 100 * time.Millisecond})
		_, err := server.ReadMessage()
		var ne net.Error
		if !errors.Is(err, ErrTimeout) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("ReadMessage on a silent stream with Timeout = %v, want ErrTimeout", err)
		}
		if _, err := server.Write([]byte("x")); !errors.Is(err, ErrTimeout) {
			t.Fatalf("Write after the timeout = %v, want ErrTimeout", err)
		}
	})
	t.Run("keepalive", func(t *testing.T) {
		client, server := pipePair(t, &Options{KeepAlive: 20 * time.Millisecond}, &Options{Timeout: 100 * time.Millisecond})
		server.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		// Keepalives reach a side that does not filter them as empty
		// messages, and keep it from timing out.
		for i := range 3 {
			msg, err := server.ReadMessage()
			if err != nil || len(msg) != 0 {
				t.Fatalf("keepalive %d: ReadMessage = %q, %v; want an empty message", i, msg, err)
			}
		}
		_ = client
		// With filtering on, the read sees no message before the deadline
		// and the connection is still alive.
		client2, server2 := pipePair(t, &Options{KeepAlive: 20 * time.Millisecond}, &Options{Timeout: 100 * time.Millisecond, FilterEmptyMessages: true})
		server2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := server2.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadMessage with keepalives filtered = %v, want the read deadline", err)
		}
		go client2.Write([]byte("still here"))
		server2.SetReadDeadline(time.Time{})
		if msg, err := server2.ReadMessage(); err != nil || string(msg) != "still here" {
			t.Fatalf("ReadMessage after the keepalives = %q, %v", msg, err)
		}
	})
}

func TestClose(t *testing.T) {
	client, server := pipePair(t, nil, nil)
	readErr := make(chan error, 1)
	go func() {
		_, err := server.Read(make([]byte, 10))
		readErr <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := server.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := server.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := <-readErr; !errors.Is(err, net.ErrClosed) {
		t.Errorf("blocked Read after Close = %v, want net.ErrClosed", err)
	}
	if _, err := server.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v, want net.ErrClosed", err)
	}
	if _, err := server.ReadMessage(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadMessage after Close = %v, want net.ErrClosed", err)
	}
	// The peer sees the transport end.
	if _, err := client.Read(make([]byte, 10)); err != io.EOF {
		t.Errorf("peer Read after Close = %v, want io.EOF", err)
	}
}

func TestCloseWrite(t *testing.T) {
	client, server := tcpPair(t, nil, nil)
	if _, err := client.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	if err := client.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	if err := client.CloseWrite(); err != nil {
		t.Fatalf("second CloseWrite: %v", err)
	}
	if _, err := client.Write([]byte("more")); !errors.Is(err, ErrWriteClosed) {
		t.Errorf("Write after CloseWrite = %v, want ErrWriteClosed", err)
	}
	got, err := io.ReadAll(server)
	if err != nil || string(got) != "request" {
		t.Fatalf("server ReadAll = %q, %v; want \"request\", nil", got, err)
	}
	if _, err := server.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read after EOF = %v, want io.EOF again", err)
	}
	// The other direction still works.
	if _, err := server.Write([]byte("response")); err != nil {
		t.Fatal(err)
	}
	server.CloseWrite()
	got, err = io.ReadAll(client)
	if err != nil || string(got) != "response" {
		t.Fatalf("client ReadAll = %q, %v; want \"response\", nil", got, err)
	}
	// Over a transport that cannot half-close, CloseWrite says so.
	c, _ := pipePair(t, nil, nil)
	if err := c.CloseWrite(); !errors.Is(err, ErrNoCloseWrite) {
		t.Errorf("CloseWrite over net.Pipe = %v, want ErrNoCloseWrite", err)
	}
}

func TestBulkTCP(t *testing.T) {
	const size = 16 << 20
	client, server := tcpPair(t, nil, nil)
	var wg sync.WaitGroup
	send := func(c *Conn, seed uint64) [32]byte {
		h := sha256.New()
		rng := rand.NewChaCha8([32]byte{byte(seed)})
		buf := make([]byte, 100_000)
		for sent := 0; sent < size; {
			n := min(len(buf), size-sent, 1+int(rand.N(uint(len(buf)))))
			rng.Read(buf[:n])
			h.Write(buf[:n])
			if _, err := c.Write(buf[:n]); err != nil {
				t.Errorf("Write: %v", err)
				break
			}
			sent += n
		}
		c.CloseWrite()
		return [32]byte(h.Sum(nil))
	}
	recv := func(c *Conn) ([32]byte, int64) {
		h := sha256.New()
		n, err := io.Copy(h, c)
		if err != nil {
			t.Errorf("reading: %v", err)
		}
		return [32]byte(h.Sum(nil)), n
	}
	var sentA, sentB, gotA, gotB [32]byte
	var nA, nB int64
	wg.Add(4)
	go func() { defer wg.Done(); sentA = send(client, 1) }()
	go func() { defer wg.Done(); sentB = send(server, 2) }()
	go func() { defer wg.Done(); gotA, nA = recv(server) }()
	go func() { defer wg.Done(); gotB, nB = recv(client) }()
	wg.Wait()
	if nA != size || nB != size || sentA != gotA || sentB != gotB {
		t.Fatalf("received %d and %d bytes, want %d; checksums match: %v, %v", nA, nB, size, sentA == gotA, sentB == gotB)
	}
}

func TestWriteTo(t *testing.T) {
	client, server := pipePair(t, nil, nil)
	go func() {
		client.Write([]byte("abc"))
		client.WriteMessage(nil)
		client.Write([]byte("def"))
		client.Close()
	}()
	// Read part of the first message, then hand the rest to io.Copy.
	b := make([]byte, 1)
	if _, err := io.ReadFull(server, b); err != nil {
		t.Fatal(err)
	}
	var rest bytes.Buffer
	n, err := io.Copy(&rest, server)
	if err != nil || n != 5 || rest.String() != "bcdef" {
		t.Fatalf("io.Copy = %d, %v, %q; want 5, nil, \"bcdef\"", n, err, rest.String())
	}
}
