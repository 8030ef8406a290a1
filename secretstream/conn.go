package secretstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopear/gopear/secretstream/internal/sodiumstream"
)

const (
	// frameHeader is the u24 LE length in front of every frame.
	frameHeader = 3
	// idHeaderSize is the first message after the handshake: stream id ‖
	// secretstream header.
	idHeaderSize = 32 + sodiumstream.HeaderSize
	// headroom is kept free in front of the first unread byte of the read
	// buffer; decryption works in place over the 63 bytes in front of a
	// frame's payload (sodiumstream.Headroom).
	headroom = sodiumstream.Headroom
	// initialReadBuffer is the read buffer's first size; it grows to fit
	// the largest frame seen.
	initialReadBuffer = 32 << 10
	// keepBuffer is the largest buffer kept between calls; larger ones,
	// made for one big message, are dropped once it is done.
	keepBuffer = 1 << 20
)

// Handshake is the result of a Noise handshake done elsewhere, which
// FromHandshake continues from (JS: the handshake option of
// NoiseSecretStream, which hyperdht fills from its IK handshake).
type Handshake struct {
	// Tx is the key of what this side sends, Rx of what it receives.
	Tx, Rx [32]byte
	// Hash is the 64-byte handshake hash.
	Hash [64]byte
	// PublicKey is this side's static public key, RemotePublicKey the
	// peer's.
	PublicKey, RemotePublicKey [32]byte
}

// deadliner is the part of net.Conn that Conn passes deadlines to.
type deadliner interface {
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// Conn is an encrypted, authenticated secret stream over a transport. It
// implements net.Conn, and carries messages: every Write and WriteMessage
// is one or more whole messages, and ReadMessage returns them one by one.
//
// Reads and writes lock separately, so one goroutine may read while
// another writes; concurrent readers (or writers) take turns.
type Conn struct {
	rw          io.ReadWriteCloser
	dl          deadliner // rw's deadlines; nil if it has none
	cfg         *config
	isInitiator bool
	publicKey   [32]byte
	remoteKey   [32]byte
	hash        [64]byte
	epoch       time.Time // lastRead and lastWrite count from here

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error // rw.Close's result, set in closeOnce

	// errMu guards err: why the connection was closed, ErrClosed for a
	// local Close. The first cause is kept.
	errMu sync.Mutex
	err   error

	readDeadline  atomic.Int64 // UnixNano; 0 means none
	writeDeadline atomic.Int64
	lastRead      atomic.Int64 // nanoseconds since epoch
	lastWrite     atomic.Int64

	// timerMu guards the timers, which their own functions re-arm.
	timerMu   sync.Mutex
	idleTimer *time.Timer
	keepTimer *time.Timer

	// rmu guards the read side: everything in r. Held during transport
	// reads.
	rmu sync.Mutex
	r   struct {
		buf        []byte
		start, end int   // unread bytes are buf[start:end]; start >= headroom
		readErr    error // transport error that came with the last bytes
		err        error // sticky: io.EOF once the peer has ended
		pull       *sodiumstream.Pull
		rx         [32]byte
		needHeader bool   // the peer's id and header are still to come
		plain      []byte // rest of the current message for Read
	}

	// wmu guards the write side: everything in w. Held during transport
	// writes.
	wmu sync.Mutex
	w   struct {
		push    *sodiumstream.Push
		buf     []byte
		pending []byte // bytes owed to the transport before the next frame
		closed  bool   // CloseWrite was called
	}
}

var _ net.Conn = (*Conn)(nil)

// Client runs the Noise XX handshake as the initiator (the side that
// dialled) over rw and returns the connection. The handshake is bounded by
// ctx: when ctx ends first, rw is closed and the error wraps ctx's. Any
// failure closes rw. Conn takes rw over: its Close closes rw.
func Client(ctx context.Context, rw io.ReadWriteCloser, opts *Options) (*Conn, error) {
	return newXX(ctx, rw, true, opts)
}

// Server runs the Noise XX handshake as the responder over rw, as Client
// does for the initiator.
func Server(ctx context.Context, rw io.ReadWriteCloser, opts *Options) (*Conn, error) {
	return newXX(ctx, rw, false, opts)
}

// FromHandshake returns a connection over rw for a handshake already done
// elsewhere (hyperdht runs Noise IK over the DHT and hands the keys over).
// It does no I/O: the stream id and header go out before the first message.
// Options.PrivateKey is unused; Options.RemotePublicKey, when set, is
// checked against h.RemotePublicKey.
func FromHandshake(rw io.ReadWriteCloser, isInitiator bool, h *Handshake, opts *Options) (*Conn, error) {
	cfg, err := newConfig(opts, false)
	if err != nil {
		return nil, err
	}
	c := newConn(rw, isInitiator, cfg)
	if cfg.remote != nil && *cfg.remote != h.RemotePublicKey {
		c.fail(ErrRemoteKey)
		return nil, ErrRemoteKey
	}
	c.publicKey = h.PublicKey
	if err := c.setup(h.Tx, h.Rx, h.Hash, h.RemotePublicKey); err != nil {
		c.fail(err)
		return nil, err
	}
	c.startKeepAlive()
	return c, nil
}

func newConn(rw io.ReadWriteCloser, isInitiator bool, cfg *config) *Conn {
	c := &Conn{rw: rw, cfg: cfg, isInitiator: isInitiator, epoch: time.Now()}
	c.dl, _ = rw.(deadliner)
	c.r.start, c.r.end = headroom, headroom
	if cfg.timeout > 0 {
		c.timerMu.Lock()
		c.idleTimer = time.AfterFunc(cfg.timeout, c.onIdle)
		c.timerMu.Unlock()
	}
	return c
}

func newXX(ctx context.Context, rw io.ReadWriteCloser, initiator bool, opts *Options) (*Conn, error) {
	cfg, err := newConfig(opts, true)
	if err != nil {
		return nil, err
	}
	c := newConn(rw, initiator, cfg)
	copy(c.publicKey[:], cfg.key[32:])
	res, err := c.handshakeXX(ctx)
	if err != nil {
		c.fail(err)
		return nil, err
	}
	if err := c.setup(res.Tx, res.Rx, res.Hash, res.RemoteStaticKey); err != nil {
		c.fail(err)
		return nil, err
	}
	c.startKeepAlive()
	return c, nil
}

// setup starts the secretstream in both directions after a handshake: it
// queues this side's id and header and waits for the peer's.
func (c *Conn) setup(tx, rx [32]byte, hash [64]byte, remote [32]byte) error {
	c.hash, c.remoteKey = hash, remote
	var header [sodiumstream.HeaderSize]byte
	if _, err := rand.Read(header[:]); err != nil {
		return err
	}
	c.w.push = sodiumstream.NewPush(&tx, &header)
	msg := make([]byte, frameHeader+idHeaderSize)
	putUint24(msg, idHeaderSize)
	id := streamID(&hash, c.isInitiator)
	copy(msg[frameHeader:], id[:])
	copy(msg[frameHeader+32:], header[:])
	c.w.pending = msg
	c.r.rx = rx
	c.r.needHeader = true
	return nil
}

// IsInitiator reports whether this side started the handshake (dialled).
// Role-dependent hashes above (hypercore capabilities) use it.
func (c *Conn) IsInitiator() bool { return c.isInitiator }

// PublicKey returns this side's static public key.
func (c *Conn) PublicKey() [32]byte { return c.publicKey }

// RemotePublicKey returns the peer's static public key, learnt in the
// handshake.
func (c *Conn) RemotePublicKey() [32]byte { return c.remoteKey }

// HandshakeHash returns the 64-byte Noise handshake hash, the same on both
// sides, which hypercore binds its capabilities to.
func (c *Conn) HandshakeHash() [64]byte { return c.hash }

// LocalAddr returns the transport's local address if it is a net.Conn,
// and otherwise an Addr holding this side's public key.
func (c *Conn) LocalAddr() net.Addr {
	if nc, ok := c.rw.(net.Conn); ok {
		return nc.LocalAddr()
	}
	return Addr{PublicKey: c.publicKey}
}

// RemoteAddr returns the transport's remote address if it is a net.Conn,
// and otherwise an Addr holding the peer's public key.
func (c *Conn) RemoteAddr() net.Addr {
	if nc, ok := c.rw.(net.Conn); ok {
		return nc.RemoteAddr()
	}
	return Addr{PublicKey: c.remoteKey}
}

// Addr is the address of one end of a Conn whose transport has no
// addresses: its static public key.
type Addr struct {
	PublicKey [32]byte
}

// Network returns "secretstream".
func (Addr) Network() string { return "secretstream" }

// String returns the public key in hex.
func (a Addr) String() string { return hex.EncodeToString(a.PublicKey[:]) }

// Close closes the connection and its transport. Blocked reads and writes
// return errors matching net.ErrClosed. Close is idempotent; only the first
// call can return an error, the transport's.
func (c *Conn) Close() error {
	first := !c.closed.Load()
	c.fail(ErrClosed)
	if first {
		return c.closeErr
	}
	return nil
}

// fail closes the connection for cause, unless it is already closed.
func (c *Conn) fail(cause error) {
	c.errMu.Lock()
	if c.err == nil {
		c.err = cause
	}
	c.errMu.Unlock()
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.timerMu.Lock()
		if c.idleTimer != nil {
			c.idleTimer.Stop()
		}
		if c.keepTimer != nil {
			c.keepTimer.Stop()
		}
		c.timerMu.Unlock()
		if err := c.rw.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			c.closeErr = err
		}
	})
}

// cause returns why the connection is closed.
func (c *Conn) cause() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.err == nil {
		return ErrClosed
	}
	return c.err
}

// SetDeadline sets the read and write deadlines (net.Conn). They are
// passed to the transport, which must support deadlines (every net.Conn
// does); otherwise it returns ErrNoDeadline.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline (net.Conn). A read past it
// returns an error matching os.ErrDeadlineExceeded with Timeout() true;
// the connection stays usable.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.dl == nil {
		return ErrNoDeadline
	}
	c.readDeadline.Store(deadlineNanos(t))
	return c.dl.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline (net.Conn). A message cut by
// the deadline after part of it reached the transport is finished before
// the next message, so the stream stays intact.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.dl == nil {
		return ErrNoDeadline
	}
	c.writeDeadline.Store(deadlineNanos(t))
	return c.dl.SetWriteDeadline(t)
}

func deadlineNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func pastDeadline(d *atomic.Int64) bool {
	v := d.Load()
	return v != 0 && time.Now().UnixNano() >= v
}

func (c *Conn) now() int64 { return int64(time.Since(c.epoch)) }

// onIdle closes the connection if nothing was received for the timeout.
func (c *Conn) onIdle() {
	if c.closed.Load() {
		return
	}
	idle := time.Duration(c.now() - c.lastRead.Load())
	if idle >= c.cfg.timeout {
		c.fail(ErrTimeout)
		return
	}
	c.timerMu.Lock()
	t := c.idleTimer
	c.timerMu.Unlock()
	c.rearm(t, c.cfg.timeout-idle)
}

func (c *Conn) startKeepAlive() {
	if c.cfg.keepAlive > 0 {
		c.timerMu.Lock()
		c.keepTimer = time.AfterFunc(c.cfg.keepAlive, c.onKeepAlive)
		c.timerMu.Unlock()
	}
}

// onKeepAlive sends an empty message if nothing was written for the
// keepalive interval. A write in progress makes it unnecessary.
func (c *Conn) onKeepAlive() {
	if c.closed.Load() {
		return
	}
	ka := c.cfg.keepAlive
	idle := time.Duration(c.now() - c.lastWrite.Load())
	if idle >= ka {
		if c.wmu.TryLock() {
			ended := c.w.closed
			if !ended {
				c.writeLocked(nil, false)
			}
			c.wmu.Unlock()
			if ended {
				return
			}
		}
		idle = 0
	}
	c.timerMu.Lock()
	t := c.keepTimer
	c.timerMu.Unlock()
	c.rearm(t, ka-idle)
}

// rearm sets t to fire again after d, unless the connection is closed.
func (c *Conn) rearm(t *time.Timer, d time.Duration) {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if !c.closed.Load() {
		t.Reset(d)
	}
}
