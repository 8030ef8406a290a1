package corestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/protomux"
	"github.com/gopear/gopear/secretstream"
)

// protocol is the protomux protocol of hypercore replication channels
// (PROTOCOLS.md §5.4); a channel's id is its core's discovery key.
const protocol = "hypercore/alpha"

// keepAlive is the secret-stream keep-alive of the streams Replicate
// secures itself, as hypercore's createProtocolStream sets it.
const keepAlive = 5 * time.Second

// Replication is one replication stream of a store, made by
// [Store.Replicate]: a protomux session over one secret stream that
// carries a "hypercore/alpha" channel for every core the two peers share.
// It runs until the connection ends, [Replication.Close] is called or the
// store closes.
//
// A Replication is safe for concurrent use.
type Replication struct {
	r *root

	ctx    context.Context // cancelled by Close: stops the handshake
	cancel context.CancelFunc
	opened chan struct{} // closed once the mux runs, or the stream ended before
	done   chan struct{} // closed once the stream ended and was cleaned up

	// live is set, under r.mu, once mux is set: from then on Get attaches
	// new cores to the stream.
	live bool

	// mu guards the fields below.
	mu    sync.Mutex
	mux   *protomux.Mux
	hh    [64]byte
	init  bool
	ended bool
	err   error
	// cores holds the stream's own session of every core attached to it,
	// which keeps the core open while the stream runs (a JS core with
	// peers is not idle either).
	cores map[hypercore.Key]*hypercore.Core
}

// Replicate replicates the store's cores with the peer at the other end
// of stream (JS store.replicate(isInitiator | stream)), and returns at
// once; the work happens on goroutines of the returned Replication.
//
// stream is either a secured connection (a *secretstream.Conn, or any
// hypercore.ReplicationStream), whose role must then be isInitiator, or a
// raw byte stream (a net.Conn, for example), which Replicate secures with
// a Noise handshake first, as the initiator (Client) when isInitiator is
// set and as the responder (Server) otherwise, with a fresh random key
// pair and a 5-second keep-alive, as JS does. The Replication owns stream:
// it closes it when it ends.
//
// On the stream, corked into one batch (PROTOCOLS.md §5.8), the store
// opens the channel of every core it has open (a core with a session
// from Get); cores opened later are added as they are opened. When the
// peer opens a channel for a core the store has not opened, the store
// opens it if it holds it in its database, and rejects the channel
// otherwise. Every core attached to a stream stays open while the stream
// runs.
func (s *Store) Replicate(stream io.ReadWriteCloser, isInitiator bool) (*Replication, error) {
	if rs, ok := stream.(hypercore.ReplicationStream); ok && rs.IsInitiator() != isInitiator {
		return nil, fmt.Errorf("corestore: Replicate: isInitiator is %v but the stream's role is the opposite", isInitiator)
	}
	r := s.r
	ctx, cancel := context.WithCancel(context.Background())
	rep := &Replication{
		r:      r,
		ctx:    ctx,
		cancel: cancel,
		opened: make(chan struct{}),
		done:   make(chan struct{}),
		cores:  make(map[hypercore.Key]*hypercore.Core),
	}
	r.mu.Lock()
	if s.closed || r.closed {
		r.mu.Unlock()
		cancel()
		return nil, ErrClosed
	}
	r.streams[rep] = struct{}{}
	r.wg.Add(1)
	r.mu.Unlock()
	go rep.run(stream, isInitiator)
	return rep, nil
}

// run secures the stream if needed, starts the mux and waits for it to
// end.
func (rep *Replication) run(stream io.ReadWriteCloser, isInitiator bool) {
	defer rep.r.wg.Done()
	rs, ok := stream.(hypercore.ReplicationStream)
	if !ok {
		handshake := secretstream.Server
		if isInitiator {
			handshake = secretstream.Client
		}
		conn, err := handshake(rep.ctx, stream, &secretstream.Options{KeepAlive: keepAlive})
		if err != nil {
			rep.finish(fmt.Errorf("corestore: replication handshake: %w", err)) // the handshake closed stream
			return
		}
		rs = conn
	}
	mux := rep.start(rs)
	if mux == nil {
		return
	}
	<-mux.Done()
	rep.finish(mux.Err())
}

// start runs the mux on rs: it registers the on-demand opener, attaches
// every open core in one corked batch, and only then lets the mux read,
// so that no channel the peer opens at once is rejected for lack of a
// handler. It returns nil when the stream was closed meanwhile.
func (rep *Replication) start(rs hypercore.ReplicationStream) *protomux.Mux {
	mux := protomux.New(rs, &protomux.Options{DeferRead: true})
	mux.Pair(protocol, nil, func(id []byte) { rep.onDiscoveryKey(mux, id) })

	rep.mu.Lock()
	if rep.ctx.Err() != nil { // Close came first
		rep.mu.Unlock()
		mux.Close()
		rep.finish(nil)
		return nil
	}
	rep.mux, rep.hh, rep.init = mux, rs.HandshakeHash(), rs.IsInitiator()
	rep.mu.Unlock()

	r := rep.r
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		mux.Close()
		rep.finish(nil)
		return nil
	}
	rep.live = true
	cores := r.openCoresLocked()
	r.mu.Unlock()

	mux.Cork()
	for _, c := range cores {
		rep.attach(c)
	}
	mux.Uncork()
	close(rep.opened)
	mux.Start()
	return mux
}

// attach opens c's channel on the stream, with a session of its own that
// keeps the core open while the stream runs; it does nothing when the
// core is attached already or the stream ended.
func (rep *Replication) attach(c *hypercore.Core) {
	dk := c.DiscoveryKey()
	rep.mu.Lock()
	stale := rep.dropClosedLocked(dk) // a purged core opened again
	defer closeStale(stale)
	if rep.ended || rep.cores[dk] != nil {
		rep.mu.Unlock()
		return
	}
	sess, err := c.Session()
	if err != nil { // c was closed meanwhile
		rep.mu.Unlock()
		return
	}
	rep.cores[dk] = sess
	mux, hh, init := rep.mux, rep.hh, rep.init
	rep.mu.Unlock()
	if err := sess.Attach(mux, hh, init); err != nil {
		rep.r.log.Debug("corestore: attaching a core to a stream", "core", sess.Key(), "err", err)
	}
}

// onDiscoveryKey answers the peer's open of a channel that no attached
// core has paired (JS _attachMaybe): the core with that discovery key is
// opened and attached if the database holds it; otherwise nothing is
// done, and the mux rejects the channel. It runs on the mux's reader,
// which the open from storage holds up (protomux pairs synchronously).
func (rep *Replication) onDiscoveryKey(mux *protomux.Mux, id []byte) {
	if len(id) != 32 {
		// JS hypercore throws BAD_ARGUMENT here, which destroys the stream.
		mux.Destroy(fmt.Errorf("corestore: peer opened a hypercore channel with an invalid discovery key (%d bytes): %w", len(id), protomux.ErrProtocol))
		return
	}
	dk := hypercore.Key(id)
	rep.mu.Lock()
	stale := rep.dropClosedLocked(dk) // purged: serve it only if stored again
	known := rep.ended || rep.cores[dk] != nil
	rep.mu.Unlock()
	closeStale(stale)
	if known {
		return
	}
	c, err := rep.r.hs.OpenDiscoveryKey(rep.ctx, dk, nil)
	if err != nil {
		if !errors.Is(err, hypercore.ErrNotFound) && !errors.Is(err, hypercore.ErrClosed) {
			rep.r.log.Warn("corestore: opening a core a peer asked for", "discoveryKey", dk, "err", err)
		}
		return
	}
	rep.mu.Lock()
	if rep.ended || rep.cores[dk] != nil {
		rep.mu.Unlock()
		c.Close()
		return
	}
	rep.cores[dk] = c
	hh, init := rep.hh, rep.init
	rep.mu.Unlock()
	if err := c.Attach(mux, hh, init); err != nil {
		rep.r.log.Debug("corestore: attaching a core a peer asked for", "core", c.Key(), "err", err)
	}
}

// finish records why the stream ended (nil: it was closed here), closes
// the stream's sessions and forgets the stream.
func (rep *Replication) finish(err error) {
	if err == nil || rep.ctx.Err() != nil {
		err = fmt.Errorf("corestore: replication closed: %w", net.ErrClosed)
	}
	rep.cancel()
	rep.mu.Lock()
	rep.ended = true
	rep.err = err
	cores := rep.cores
	rep.cores = nil
	rep.mu.Unlock()
	for _, c := range cores {
		c.Close()
	}
	r := rep.r
	r.mu.Lock()
	delete(r.streams, rep)
	rep.live = false
	r.mu.Unlock()
	select {
	case <-rep.opened:
	default:
		close(rep.opened)
	}
	close(rep.done)
}

// liveStreamsLocked returns the streams whose mux runs.
func (r *root) liveStreamsLocked() []*Replication {
	var out []*Replication
	for st := range r.streams {
		if st.live {
			out = append(out, st)
		}
	}
	return out
}

// Close ends the stream, closing the connection, and waits until the
// stream's goroutines have returned and the cores it kept open are
// released. It is idempotent and returns nil. It must not be called from
// a protomux callback.
func (rep *Replication) Close() error {
	rep.cancel()
	rep.mu.Lock()
	mux := rep.mux
	rep.mu.Unlock()
	if mux != nil {
		mux.Close()
	}
	<-rep.done
	return nil
}

// Done returns a channel that is closed once the stream has ended and
// been cleaned up.
func (rep *Replication) Done() <-chan struct{} { return rep.done }

// Err returns why the stream ended: nil while it runs; after Close (of
// the stream or of the store), an error matching net.ErrClosed; else the
// handshake's, the connection's or the protocol's error (wrapping io.EOF
// when the peer ended the connection).
func (rep *Replication) Err() error {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	return rep.err
}

// Wait waits until the stream ends and returns [Replication.Err], or
// returns ctx's error first.
func (rep *Replication) Wait(ctx context.Context) error {
	select {
	case <-rep.done:
		return rep.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitOpen waits until the stream is secured and carries the store's
// open cores, and returns nil; or returns the stream's error if it ended
// first, or ctx's.
func (rep *Replication) WaitOpen(ctx context.Context) error {
	select {
	case <-rep.opened:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-rep.done:
		return rep.Err()
	default:
		return nil
	}
}

// Mux returns the protomux session of the stream, on which applications
// may run protocols of their own next to hypercore's (JS
// stream.noiseStream.userData); nil until the stream is open
// ([Replication.WaitOpen]).
func (rep *Replication) Mux() *protomux.Mux {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	return rep.mux
}
