package secretstream_test

import (
	"context"
	"fmt"
	"net"

	"github.com/gopear/gopear/secretstream"
)

// Two peers over an in-memory pipe: the dialling side is the Client (the
// Noise initiator). After the handshake both know each other's public key
// and share the handshake hash; messages keep their boundaries.
func Example() {
	a, b := net.Pipe()
	ctx := context.Background()

	type result struct {
		c   *secretstream.Conn
		err error
	}
	accepted := make(chan result)
	go func() {
		c, err := secretstream.Server(ctx, b, nil)
		accepted <- result{c, err}
	}()
	client, err := secretstream.Client(ctx, a, nil)
	if err != nil {
		panic(err)
	}
	defer client.Close()
	r := <-accepted
	if r.err != nil {
		panic(r.err)
	}
	server := r.c
	defer server.Close()

	fmt.Println("same hash:", client.HandshakeHash() == server.HandshakeHash())
	fmt.Println("server knows client:", server.RemotePublicKey() == client.PublicKey())

	go func() {
		client.WriteMessage([]byte("hello"))
		client.WriteMessage([]byte("world"))
	}()
	for range 2 {
		msg, err := server.ReadMessage()
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s\n", msg)
	}
	// Output:
	// same hash: true
	// server knows client: true
	// hello
	// world
}
