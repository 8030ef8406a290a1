package protomux_test

import (
	"fmt"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/protomux"
)

// Two muxes over an in-memory pipe: the server pairs channels of protocol
// "chat" on demand and answers every message; the client opens a channel
// and sends one.
func Example() {
	clientStream, serverStream := protomux.Pipe()
	client := protomux.New(clientStream, nil)
	server := protomux.New(serverStream, nil)
	defer client.Close()
	defer server.Close()

	server.Pair("chat", nil, func(id []byte) {
		ch, err := server.CreateChannel(protomux.ChannelOptions{Protocol: "chat", ID: id})
		if err != nil {
			return // not created: the client's open is rejected
		}
		var reply *protomux.Message[string]
		reply = protomux.AddMessage(ch, cenc.String, func(s string) error {
			return reply.Send("hello, " + s)
		})
		ch.Open(nil)
	})

	answers := make(chan string)
	ch, err := client.CreateChannel(protomux.ChannelOptions{
		Protocol: "chat",
		ID:       []byte("room 1"),
		OnOpen: func(ch *protomux.Channel, handshake []byte) error {
			fmt.Println("open")
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	say := protomux.AddMessage(ch, cenc.String, func(s string) error {
		answers <- s
		return nil
	})
	ch.Open(nil)
	say.Send("gopher") // held by the server until its side opens
	fmt.Println(<-answers)
	// Output:
	// open
	// hello, gopher
}
