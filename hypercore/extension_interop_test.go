package hypercore

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/protomux"
	"github.com/gopear/gopear/secretstream"
)

// jsEvent is an event interop/hypercore/extension.js reports.
type jsEvent struct {
	Type            string
	RemotePublicKey string `json:",omitempty"`
	Name            string `json:",omitempty"`
	Message         string `json:",omitempty"`
	From            string `json:",omitempty"`
}

// jsEvents waits for count events of the JS peer, then settle
// milliseconds more, and returns every event it saw.
func (j *jsPeer) events(count, settle int) []jsEvent {
	j.t.Helper()
	var r struct{ Events []jsEvent }
	j.call(map[string]any{"op": "events", "count": count, "settle": settle}, &r)
	return r.Events
}

// TestInteropExtension exchanges extension messages between a Go core and
// a JS hypercore 11 over TCP and secretstream, in both directions and
// with either side listening, in JS's default encoding and raw, with
// names only one side registered, and checks that both sides report the
// peer coming and going.
func TestInteropExtension(t *testing.T) {
	jsref.Require(t)
	t.Run("go listens", func(t *testing.T) { testInteropExtension(t, true) })
	t.Run("js listens", func(t *testing.T) { testInteropExtension(t, false) })
}

func testInteropExtension(t *testing.T, goListens bool) {
	w := memCore(t, &Options{KeyPair: seedKeyPair(41)})
	mustAppend(t, w, []byte("a"))
	// The Go side registers before the peer connects.
	peers := watchPeers(t, w)
	win := newInbox()
	wext := mustRegister(t, w, "gopear-ext", win.handle)
	goOnly := mustRegister(t, w, "go-only", nil)
	rawIn := newInbox()
	raw := mustRegisterOpts(t, w, "raw-ext", &ExtensionOptions{OnMessage: rawIn.handle, Raw: true})
	marker := mustRegister(t, w, "marker", nil)

	p := jsref.Start(t, "hypercore/extension.js")
	t.Cleanup(p.CloseStdin)
	js := &jsPeer{t: t, p: p}
	key := w.Key()
	js.call(map[string]any{"op": "open", "key": hex.EncodeToString(key[:])}, nil)
	register := func(name string) { js.call(map[string]any{"op": "register", "name": name}, nil) }
	js.call(map[string]any{"op": "register", "name": "raw-ext", "raw": true}, nil)
	// JS registers before connecting when Go listens, after otherwise.
	if goListens {
		register("gopear-ext")
	}

	var jsKey string
	var goMux *protomux.Mux
	if goListens {
		port := serveCore(t, w)
		var r struct{ PublicKey, RemotePublicKey string }
		js.call(map[string]any{"op": "connect", "port": port}, &r)
		jsKey = r.PublicKey
	} else {
		var r struct{ Port int }
		js.call(map[string]any{"op": "listen"}, &r)
		goMux = dialCore(t, w, r.Port)
	}

	add := peers.next(t, EventPeerAdd)
	ss, ok := add.Peer.Mux.Stream().(*secretstream.Conn)
	if !ok {
		t.Fatalf("peer-add mux stream is %T", add.Peer.Mux.Stream())
	}
	pk := ss.PublicKey()
	goKey := hex.EncodeToString(pk[:])
	gotJSKey := hex.EncodeToString(add.Peer.RemotePublicKey[:])
	if goListens && gotJSKey != jsKey {
		t.Errorf("peer-add remote key %s, JS says its key is %s", gotJSKey, jsKey)
	}
	if !goListens && add.Peer.Mux != goMux {
		t.Errorf("peer-add mux %p, want %p", add.Peer.Mux, goMux)
	}
	jsKey = gotJSKey
	if ev := js.events(1, 0); !reflect.DeepEqual(ev, []jsEvent{{Type: "peer-add", RemotePublicKey: goKey}}) {
		t.Fatalf("JS events %+v, want peer-add of %s", ev, goKey)
	}
	if !goListens {
		register("gopear-ext")
	}
	register("js-only")
	register("marker")

	// JS to Go: a name Go does not know is ignored; the second message of
	// a name goes with an empty name on the wire.
	jsCall := func(op, name, msg string) {
		js.call(map[string]any{"op": op, "name": name, "message": msg, "to": goKey}, nil)
	}
	jsCall("broadcast", "js-only", "ignored by go")
	jsCall("broadcast", "gopear-ext", "hello 1")
	jsCall("broadcast", "gopear-ext", "hello 2")
	jsCall("send", "gopear-ext", "direct")
	first := win.expect(t, "hello 1")
	if first.from.Mux != add.Peer.Mux || first.from.RemotePublicKey != add.Peer.RemotePublicKey {
		t.Errorf("message from %+v, want the peer %+v", first.from, add.Peer)
	}
	win.expect(t, "hello 2")
	win.expect(t, "direct")
	win.empty(t)
	jsCall("broadcast", "raw-ext", "raw from js")
	rawIn.expect(t, "raw from js")

	// Go to JS.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(goOnly.Broadcast([]byte("ignored by js")))
	must(wext.Send([]byte("reply"), first.from))
	must(wext.Broadcast([]byte("broadcast 1")))
	must(wext.Broadcast([]byte("broadcast 2")))
	must(goOnly.Broadcast([]byte("ignored by js")))
	must(wext.Broadcast([]byte("after go-only")))
	must(raw.Broadcast([]byte("raw from go")))
	msg := func(name, m string) jsEvent { return jsEvent{Type: "message", Name: name, Message: m, From: goKey} }
	want := []jsEvent{
		msg("gopear-ext", "reply"), msg("gopear-ext", "broadcast 1"),
		msg("gopear-ext", "broadcast 2"), msg("gopear-ext", "after go-only"),
		msg("raw-ext", "raw from go"),
	}
	if ev := js.events(len(want), 100); !reflect.DeepEqual(ev, want) {
		t.Fatalf("JS events %+v, want %+v", ev, want)
	}

	// A JS extension that was destroyed hears nothing more; a marker on
	// another extension shows the message arrived.
	js.call(map[string]any{"op": "destroy", "name": "gopear-ext"}, nil)
	must(wext.Broadcast([]byte("after destroy")))
	must(marker.Broadcast([]byte("marker")))
	if ev := js.events(1, 50); !reflect.DeepEqual(ev, []jsEvent{msg("marker", "marker")}) {
		t.Fatalf("JS events after destroy %+v", ev)
	}

	// Disconnecting removes the peer on both sides.
	if goListens {
		js.call(map[string]any{"op": "disconnect"}, nil)
	} else {
		goMux.Close()
	}
	if rm := peers.next(t, EventPeerRemove); rm.Peer.Mux != add.Peer.Mux || rm.Peer.RemotePublicKey != add.Peer.RemotePublicKey {
		t.Errorf("peer-remove %+v, want the peer %+v", rm.Peer, add.Peer)
	}
	if ev := js.events(1, 0); !reflect.DeepEqual(ev, []jsEvent{{Type: "peer-remove", RemotePublicKey: goKey}}) {
		t.Fatalf("JS events %+v, want peer-remove of %s", ev, goKey)
	}
	var r struct{ Peers []string }
	js.call(map[string]any{"op": "peers"}, &r)
	if len(r.Peers) != 0 || len(w.Peers()) != 0 {
		t.Errorf("peers after disconnect: JS %v, Go %d", r.Peers, len(w.Peers()))
	}
	if err := wext.Send([]byte("gone"), first.from); err != ErrNoPeer {
		t.Errorf("Send to the gone JS peer: %v", err)
	}
}
