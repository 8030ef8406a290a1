package secretstream

import (
	"net"
	"testing"

	"golang.org/x/net/nettest"
)

func TestNetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		a, b := net.Pipe()
		client, server, cerr, serr := handshakePair(t, a, b, nil, nil)
		if cerr != nil || serr != nil {
			a.Close()
			b.Close()
			return nil, nil, nil, cerr
		}
		return client, server, func() {
			client.Close()
			server.Close()
		}, nil
	})
}
