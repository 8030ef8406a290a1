package secretstream

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/gopear/gopear/secretstream/internal/sodiumstream"
)

// MaxMessageSize is the largest message a secret stream carries: a frame
// length is 24 bits, and a frame holds the message and 17 bytes of
// overhead (JS MAX_ATOMIC_WRITE).
const MaxMessageSize = 1<<24 - 1 - sodiumstream.Overhead

// Options configures a Conn. A nil *Options means all defaults.
type Options struct {
	// PrivateKey is the static Ed25519 key pair this side proves it
	// holds (JS keyPair; its public half is [Conn.PublicKey]). Nil means
	// a fresh random key pair. Unused by FromHandshake.
	PrivateKey ed25519.PrivateKey

	// RemotePublicKey, when set, is the only static key the peer may
	// have: a handshake with any other key fails with ErrRemoteKey, the
	// initiator checking before it reveals its own key. Nil accepts any
	// peer. (JS takes a remotePublicKey option but does not enforce it
	// for XX.)
	RemotePublicKey *[32]byte

	// KeepAlive, when positive, sends an empty message whenever nothing
	// has been written for this long, and turns on FilterEmptyMessages
	// (JS setKeepAlive; hypercore and hyperdht use 5s). Zero means off.
	KeepAlive time.Duration

	// Timeout, when positive, closes the connection with ErrTimeout when
	// nothing has been received for this long, handshake included (JS
	// setTimeout). Bytes are received only while a Read or ReadMessage is
	// in progress, so keep one pending, as protomux does. Zero means off.
	Timeout time.Duration

	// FilterEmptyMessages drops received empty messages (keepalives)
	// instead of returning them from ReadMessage (JS
	// filterZeroByteMessages). Read never returns them either way.
	FilterEmptyMessages bool

	// MaxMessageSize bounds messages both ways: a received frame for a
	// longer message closes the connection with ErrFrameTooLarge,
	// WriteMessage refuses longer messages and Write splits at it. Zero
	// means the protocol maximum, MaxMessageSize, which JS peers may use.
	MaxMessageSize int

	// testOnlyEphemeral pins the handshake's ephemeral key.
	testOnlyEphemeral ed25519.PrivateKey
}

// config is Options with defaults applied and checked.
type config struct {
	key         ed25519.PrivateKey
	remote      *[32]byte
	keepAlive   time.Duration
	timeout     time.Duration
	filterEmpty bool
	maxMessage  int
	ephemeral   ed25519.PrivateKey
}

func newConfig(o *Options, needKey bool) (*config, error) {
	if o == nil {
		o = &Options{}
	}
	c := &config{
		remote:      o.RemotePublicKey,
		keepAlive:   o.KeepAlive,
		timeout:     o.Timeout,
		filterEmpty: o.FilterEmptyMessages || o.KeepAlive > 0,
		maxMessage:  o.MaxMessageSize,
		ephemeral:   o.testOnlyEphemeral,
	}
	switch {
	case c.maxMessage == 0:
		c.maxMessage = MaxMessageSize
	case c.maxMessage < 0 || c.maxMessage > MaxMessageSize:
		return nil, fmt.Errorf("secretstream: MaxMessageSize %d out of range [1, %d]", c.maxMessage, MaxMessageSize)
	}
	if o.KeepAlive < 0 || o.Timeout < 0 {
		return nil, errors.New("secretstream: negative KeepAlive or Timeout")
	}
	if !needKey {
		return c, nil
	}
	switch len(o.PrivateKey) {
	case 0:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		c.key = k
	case ed25519.PrivateKeySize:
		c.key = o.PrivateKey
	default:
		return nil, fmt.Errorf("secretstream: PrivateKey is %d bytes, want %d", len(o.PrivateKey), ed25519.PrivateKeySize)
	}
	return c, nil
}
