package secretstream

import (
	"context"
	"crypto/ed25519"
	"net"
	"testing"
	"time"
)

func seeded(s byte) ed25519.PrivateKey {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = s
	}
	return ed25519.NewKeyFromSeed(seed)
}

// handshakePair runs Client over a and Server over b at once.
func handshakePair(t testing.TB, a, b net.Conn, co, so *Options) (client, server *Conn, cerr, serr error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		server, serr = Server(ctx, b, so)
	}()
	client, cerr = Client(ctx, a, co)
	<-done
	return client, server, cerr, serr
}

// pipePair returns a connected pair over net.Pipe, closed at the end of
// the test.
func pipePair(t testing.TB, co, so *Options) (client, server *Conn) {
	t.Helper()
	a, b := net.Pipe()
	client, server, cerr, serr := handshakePair(t, a, b, co, so)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// tcpPair returns a connected pair over loopback TCP.
func tcpPair(t testing.TB, co, so *Options) (client, server *Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	client, server, cerr, serr := handshakePair(t, a, b, co, so)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}
