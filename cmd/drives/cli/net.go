package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hyperdrive"
)

// peers are the replication streams a command opened with --connect.
type peers struct {
	e     *env
	addrs []string
	reps  []*corestore.Replication
	// done is closed when every stream has ended.
	done chan struct{}
}

// dial connects to every --connect address and starts replicating the
// store with it, as the initiator of the secretstream handshake.
func (e *env) dial(ctx context.Context, store *corestore.Store) (*peers, error) {
	p := &peers{e: e, done: make(chan struct{})}
	for _, addr := range e.connect {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			p.close()
			return nil, fmt.Errorf("--connect %q: want HOST:PORT", addr)
		}
		d := net.Dialer{Timeout: e.timeout}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("cannot connect to %s: %s", addr, dialReason(err))
		}
		rep, err := store.Replicate(conn, true)
		if err != nil {
			conn.Close()
			p.close()
			return nil, fmt.Errorf("replicating with %s: %w", addr, err)
		}
		p.addrs = append(p.addrs, addr)
		p.reps = append(p.reps, rep)
		wctx, cancel := context.WithTimeout(ctx, e.timeout)
		err = rep.WaitOpen(wctx)
		cancel()
		if err != nil {
			p.close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("secure connection with %s failed: %s", addr, dialReason(err))
		}
		e.debugf("Connected to %s", addr)
	}
	go func() {
		for _, rep := range p.reps {
			<-rep.Done()
		}
		close(p.done)
	}()
	return p, nil
}

// dialReason shortens a network error to its cause ("connection refused").
func dialReason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// errPeersGone is the cause of a context bound to peers whose connections
// all ended.
var errPeersGone = errors.New("connection to the peer closed")

// bind returns a context that ends when ctx does or when every connection
// has ended, so that reads waiting for peers do not wait forever.
func (p *peers) bind(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-p.done:
			cancel(fmt.Errorf("%w (%s)", errPeersGone, joinAddrs(p.addrs)))
		case <-ctx.Done():
		}
	}()
	return ctx
}

func joinAddrs(addrs []string) string {
	s := ""
	for i, a := range addrs {
		if i > 0 {
			s += ", "
		}
		s += a
	}
	return s
}

// explain replaces err by the reason ctx ended, when it ended because the
// connections did.
func (p *peers) explain(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, errPeersGone) {
		return cause
	}
	return err
}

// waitPeer waits until a peer replicates the drive's db core, for at most
// --timeout.
func (p *peers) waitPeer(ctx context.Context, d *hyperdrive.Drive) error {
	deadline := time.NewTimer(p.e.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for len(d.Core().Peers()) == 0 {
		select {
		case <-ctx.Done():
			return p.explain(ctx, ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("no peer has drive %s (%s did not serve it within %s)", d.Key(), joinAddrs(p.addrs), p.e.timeout)
		case <-tick.C:
		}
	}
	return nil
}

func (p *peers) close() {
	for _, rep := range p.reps {
		rep.Close()
	}
}

// listener accepts peers for seed --listen and replicates the store with
// each of them.
type listener struct {
	e    *env
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	reps map[*corestore.Replication]string
}

func (e *env) listen(addr string) (*listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("--listen %q: want HOST:PORT", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %s", addr, dialReason(err))
	}
	return &listener{e: e, ln: ln, reps: make(map[*corestore.Replication]string)}, nil
}

// start accepts connections until the listener is closed, replicating
// store with each.
func (l *listener) start(store *corestore.Store) {
	l.wg.Add(1)
	go l.serve(store)
}

func (l *listener) serve(store *corestore.Store) {
	defer l.wg.Done()
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			return
		}
		remote := conn.RemoteAddr().String()
		rep, err := store.Replicate(conn, false)
		if err != nil {
			conn.Close()
			l.e.infof("Peer %s: %v", remote, err)
			continue
		}
		l.mu.Lock()
		l.reps[rep] = remote
		n := len(l.reps)
		l.mu.Unlock()
		l.e.debugf("Peer opened (%d) %s", n, remote)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			<-rep.Done()
			l.mu.Lock()
			delete(l.reps, rep)
			n := len(l.reps)
			l.mu.Unlock()
			l.e.debugf("Peer closed (%d) %s", n, remote)
		}()
	}
}

// close stops accepting, ends every stream and waits for the goroutines.
func (l *listener) close() {
	l.ln.Close()
	l.mu.Lock()
	reps := make([]*corestore.Replication, 0, len(l.reps))
	for rep := range l.reps {
		reps = append(reps, rep)
	}
	l.mu.Unlock()
	for _, rep := range reps {
		rep.Close()
	}
	l.wg.Wait()
}
