package secretstream

import (
	"errors"
	"fmt"
	"io"
	"net"
)

var (
	// ErrClosed is returned by operations on a Conn after Close. It
	// matches net.ErrClosed.
	ErrClosed = fmt.Errorf("secretstream: use of closed connection: %w", net.ErrClosed)

	// ErrWriteClosed is returned by writes after CloseWrite. It matches
	// net.ErrClosed.
	ErrWriteClosed = fmt.Errorf("secretstream: write after CloseWrite: %w", net.ErrClosed)

	// ErrHandshake wraps every reason a Noise handshake fails: a message
	// that does not decrypt, an invalid key, a malformed or oversized
	// handshake frame, the transport ending early, the context ending.
	ErrHandshake = errors.New("secretstream: noise handshake failed")

	// ErrRemoteKey is returned when the peer's static key is not
	// Options.RemotePublicKey.
	ErrRemoteKey = errors.New("secretstream: remote public key is not the expected one")

	// ErrBadHeader is returned when the first message after the handshake
	// is not the peer's 56-byte stream id and secretstream header, or the
	// id is not the one the handshake hash gives (JS: "Invalid header
	// message received" / "Invalid header received").
	ErrBadHeader = errors.New("secretstream: invalid header message")

	// ErrBadMessage is returned when a message does not authenticate:
	// forged, corrupted, replayed, reordered, or shorter than 17 bytes.
	// The connection is closed; the stream cannot resynchronise.
	ErrBadMessage = errors.New("secretstream: invalid message")

	// ErrFrameTooLarge is returned when the peer announces a frame
	// longer than the limit (Options.MaxMessageSize plus 17 bytes, or
	// 65535 bytes for a handshake message).
	ErrFrameTooLarge = errors.New("secretstream: frame too large")

	// ErrMessageTooLarge is returned by WriteMessage for a message over
	// the maximum size.
	ErrMessageTooLarge = errors.New("secretstream: message too large")

	// ErrTruncated is returned when the transport ends inside a frame. It
	// matches io.ErrUnexpectedEOF.
	ErrTruncated = fmt.Errorf("secretstream: stream ended inside a frame: %w", io.ErrUnexpectedEOF)

	// ErrNoCloseWrite is returned by CloseWrite when the transport has no
	// CloseWrite method to half-close with.
	ErrNoCloseWrite = errors.New("secretstream: transport cannot half-close")

	// ErrNoDeadline is returned by the Set*Deadline methods when the
	// transport has no deadlines of its own (every net.Conn has them).
	ErrNoDeadline = errors.New("secretstream: transport does not support deadlines")

	// ErrTimeout is the error of a Conn closed because nothing was
	// received for Options.Timeout (JS: "Stream timed out"). It is a
	// net.Error whose Timeout method reports true.
	ErrTimeout net.Error = timeoutError{}
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "secretstream: stream timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
