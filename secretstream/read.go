package secretstream

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/gopear/gopear/secretstream/internal/sodiumstream"
	"github.com/gopear/gopear/secretstream/noise"
)

// Read reads the plaintext stream (net.Conn): the bytes of the peer's
// messages in order, without their boundaries. Empty messages are skipped.
// It returns io.EOF once the peer has ended its side.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if pastDeadline(&c.readDeadline) {
		return 0, os.ErrDeadlineExceeded
	}
	for len(c.r.plain) == 0 {
		msg, err := c.nextMessageLocked()
		if err != nil {
			return 0, err
		}
		c.r.plain = msg
	}
	n := copy(p, c.r.plain)
	c.r.plain = c.r.plain[n:]
	return n, nil
}

// ReadMessage returns the peer's next message, as it was written: one
// WriteMessage, one Write (split in MaxMessageSize pieces), one JS write,
// one protomux frame. It may be empty (a keepalive) unless
// Options.FilterEmptyMessages or KeepAlive is set. The slice is only valid
// until the next read call; copy it to keep it. If a Read left part of a
// message unread, ReadMessage returns that part first. It returns io.EOF
// once the peer has ended its side.
func (c *Conn) ReadMessage() ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if pastDeadline(&c.readDeadline) {
		return nil, os.ErrDeadlineExceeded
	}
	if len(c.r.plain) > 0 {
		msg := c.r.plain
		c.r.plain = nil
		return msg, nil
	}
	for {
		msg, err := c.nextMessageLocked()
		if err != nil || len(msg) > 0 || !c.cfg.filterEmpty {
			return msg, err
		}
	}
}

// nextMessageLocked reads and decrypts the next message, handling the
// peer's header first.
func (c *Conn) nextMessageLocked() ([]byte, error) {
	for {
		if c.closed.Load() {
			return nil, c.cause()
		}
		if c.r.err != nil {
			return nil, c.r.err
		}
		start, n, err := c.readFrameLocked(c.cfg.maxMessage + sodiumstream.Overhead)
		if err != nil {
			return nil, c.readFailed(err)
		}
		frame := c.r.buf[start : start+n]
		if c.r.needHeader {
			if err := c.headerLocked(frame); err != nil {
				c.fail(err)
				return nil, err
			}
			continue
		}
		if n < sodiumstream.Overhead {
			err := fmt.Errorf("%w: %d-byte frame", ErrBadMessage, n)
			c.fail(err)
			return nil, err
		}
		// Decrypt in place over the frame and the bytes in front of it,
		// which are consumed frames or headroom.
		msg, _, err := c.r.pull.OpenInPlace(c.r.buf[start-(sodiumstream.Headroom-1) : start+n])
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrBadMessage, err)
			c.fail(err)
			return nil, err
		}
		return msg, nil
	}
}

// headerLocked checks the peer's stream id and starts decryption with its
// header.
func (c *Conn) headerLocked(frame []byte) error {
	if len(frame) != idHeaderSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadHeader, len(frame), idHeaderSize)
	}
	want := streamID(&c.hash, !c.isInitiator)
	if subtle.ConstantTimeCompare(frame[:32], want[:]) != 1 {
		return fmt.Errorf("%w: wrong stream id", ErrBadHeader)
	}
	var header [sodiumstream.HeaderSize]byte
	copy(header[:], frame[32:])
	c.r.pull = sodiumstream.NewPull(&c.r.rx, &header)
	c.r.rx = [32]byte{}
	c.r.needHeader = false
	return nil
}

// readFailed sorts a read error: after Close, the close cause; a deadline
// passes through and leaves the connection usable; the peer ending between
// frames is io.EOF, kept for later reads; anything else closes the
// connection.
func (c *Conn) readFailed(err error) error {
	if c.closed.Load() {
		return c.cause()
	}
	if isTimeout(err) {
		return err
	}
	if err == io.EOF {
		c.r.err = io.EOF
		return io.EOF
	}
	c.fail(err)
	return err
}

// readFrameLocked reads the next frame into the read buffer and returns
// where its payload is. Frames longer than limit are refused.
func (c *Conn) readFrameLocked(limit int) (start, n int, err error) {
	if err := c.fillLocked(frameHeader); err != nil {
		return 0, 0, err
	}
	b := c.r.buf[c.r.start:]
	n = int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	if n > limit {
		return 0, 0, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, limit)
	}
	if err := c.fillLocked(frameHeader + n); err != nil {
		return 0, 0, err
	}
	start = c.r.start + frameHeader
	c.r.start = start + n
	return start, n, nil
}

// fillLocked reads from the transport until need unread bytes are
// buffered. It keeps headroom bytes in front of them.
func (c *Conn) fillLocked(need int) error {
	r := &c.r
	if r.start == r.end {
		r.start, r.end = headroom, headroom
		if len(r.buf) > keepBuffer {
			r.buf = nil
		}
	}
	for r.end-r.start < need {
		if r.readErr != nil {
			err := r.readErr
			r.readErr = nil
			if err == io.EOF && r.end > r.start {
				err = ErrTruncated
			}
			return err
		}
		if len(r.buf)-r.start < need {
			size := max(len(r.buf), initialReadBuffer)
			for size < headroom+need {
				size *= 2
			}
			if size > len(r.buf) {
				buf := make([]byte, size)
				if r.end > r.start {
					copy(buf[headroom:], r.buf[r.start:r.end])
				}
				r.buf = buf
			} else {
				copy(r.buf[headroom:], r.buf[r.start:r.end])
			}
			r.start, r.end = headroom, headroom+(r.end-r.start)
		}
		n, err := c.rw.Read(r.buf[r.end:])
		if n > 0 {
			r.end += n
			if c.cfg.timeout > 0 {
				c.lastRead.Store(c.now())
			}
		}
		if err != nil && (r.end-r.start < need || !isTimeout(err)) {
			r.readErr = err // a stale timeout is dropped, anything else kept
		}
	}
	return nil
}

// readHandshakeLocked reads one handshake message (at most
// noise.MaxMessageSize bytes) from the transport.
func (c *Conn) readHandshakeLocked() ([]byte, error) {
	start, n, err := c.readFrameLocked(noise.MaxMessageSize)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return c.r.buf[start : start+n], nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// WriteTo writes the plaintext stream to w until the peer ends it
// (io.WriterTo, which io.Copy uses): each message goes to w straight from
// the read buffer, without the copy Read makes. It returns nil at io.EOF.
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	var total int64
	for {
		if len(c.r.plain) > 0 {
			msg := c.r.plain
			c.r.plain = nil
			n, err := w.Write(msg)
			total += int64(n)
			if err != nil {
				c.r.plain = msg[n:]
				return total, err
			}
		}
		if pastDeadline(&c.readDeadline) {
			return total, os.ErrDeadlineExceeded
		}
		msg, err := c.nextMessageLocked()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		c.r.plain = msg
	}
}
