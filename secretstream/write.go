package secretstream

import (
	"fmt"
	"os"

	"github.com/gopear/gopear/secretstream/internal/sodiumstream"
)

// Write writes p as one message (net.Conn), or as several if it is longer
// than the maximum message size. An empty p sends nothing. It returns the
// number of bytes of p sent in whole messages; see SetWriteDeadline for a
// message cut by a deadline.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(p) == 0 {
		return 0, c.writeCheckLocked()
	}
	return c.writeLocked(p, true)
}

// WriteMessage writes p as one message, which the peer's ReadMessage (or
// JS 'data' event, or protomux) gets whole. An empty p is a valid message:
// a keepalive. It fails with ErrMessageTooLarge if p is over the maximum
// message size.
func (c *Conn) WriteMessage(p []byte) error {
	if len(p) > c.cfg.maxMessage {
		return fmt.Errorf("%w: %d bytes, max %d", ErrMessageTooLarge, len(p), c.cfg.maxMessage)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.writeLocked(p, false)
	return err
}

// CloseWrite ends this side of the stream: the transport is half-closed
// (TCP FIN, UDX END), and the peer reads io.EOF (JS: end()). Reading goes
// on. The transport must have a CloseWrite method, as *net.TCPConn does;
// otherwise CloseWrite returns ErrNoCloseWrite. It is idempotent.
func (c *Conn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed.Load() {
		return c.cause()
	}
	if c.w.closed {
		return nil
	}
	cw, ok := c.rw.(interface{ CloseWrite() error })
	if !ok {
		return ErrNoCloseWrite
	}
	if err := c.flushLocked(); err != nil {
		return err
	}
	c.w.closed = true
	c.timerMu.Lock()
	if c.keepTimer != nil {
		c.keepTimer.Stop()
	}
	c.timerMu.Unlock()
	if err := cw.CloseWrite(); err != nil {
		return c.writeFailed(err)
	}
	return nil
}

func (c *Conn) writeCheckLocked() error {
	switch {
	case c.closed.Load():
		return c.cause()
	case c.w.closed:
		return ErrWriteClosed
	case pastDeadline(&c.writeDeadline):
		return os.ErrDeadlineExceeded
	}
	return nil
}

// writeLocked sends p as one message, or, if split is set, as many
// messages of at most the maximum size as it takes.
func (c *Conn) writeLocked(p []byte, split bool) (int, error) {
	if err := c.writeCheckLocked(); err != nil {
		return 0, err
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	defer func() {
		if cap(c.w.buf) > keepBuffer {
			c.w.buf = nil
		}
	}()
	written := 0
	for first := true; first || len(p) > 0; first = false {
		m := p
		if split && len(m) > c.cfg.maxMessage {
			m = m[:c.cfg.maxMessage]
		}
		p = p[len(m):]
		saved := *c.w.push
		frame := c.sealLocked(m)
		n, err := c.rw.Write(frame)
		if c.cfg.keepAlive > 0 {
			c.lastWrite.Store(c.now())
		}
		if err != nil {
			switch {
			case n == 0:
				// Nothing was sent: as if the message was never sealed.
				*c.w.push = saved
			case n < len(frame):
				// The message is committed: finish it before the next one.
				c.w.pending = append([]byte(nil), frame[n:]...)
				written += len(m)
			default:
				written += len(m)
			}
			return written, c.writeFailed(err)
		}
		written += len(m)
	}
	return written, nil
}

// sealLocked encrypts m into the write buffer and returns the frame.
func (c *Conn) sealLocked(m []byte) []byte {
	const (
		head = sodiumstream.Headroom
		tail = sodiumstream.MacSize
	)
	size := head + len(m) + tail
	if cap(c.w.buf) < size {
		c.w.buf = make([]byte, max(size, 4<<10))
	}
	buf := c.w.buf[:size]
	copy(buf[head:], m)
	c.w.push.SealInPlace(buf, sodiumstream.TagMessage)
	// The ciphertext is buf[head-1:]; the length goes right before it.
	putUint24(buf[head-1-frameHeader:], len(m)+sodiumstream.Overhead)
	return buf[head-1-frameHeader:]
}

// flushLocked writes what is owed to the transport: this side's id and
// header before its first message, or the rest of a message a deadline
// cut.
func (c *Conn) flushLocked() error {
	for len(c.w.pending) > 0 {
		n, err := c.rw.Write(c.w.pending)
		c.w.pending = c.w.pending[n:]
		if err != nil {
			return c.writeFailed(err)
		}
	}
	c.w.pending = nil
	return nil
}

// writeFailed sorts a write error: after Close, the close cause; a
// deadline passes through and leaves the connection usable; anything else
// closes the connection.
func (c *Conn) writeFailed(err error) error {
	if c.closed.Load() {
		return c.cause()
	}
	if isTimeout(err) {
		return err
	}
	c.fail(err)
	return err
}

func putUint24(b []byte, n int) {
	b[0] = byte(n)
	b[1] = byte(n >> 8)
	b[2] = byte(n >> 16)
}
