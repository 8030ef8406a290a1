package protomux

import (
	"io"
	"net"
	"sync"
)

// Stream is the message-framed, reliable, ordered transport a Mux runs on.
// *secretstream.Conn is one; [Pipe] gives an in-memory pair.
//
// The Mux calls ReadMessage from one goroutine and WriteMessage from
// another, possibly at the same time, and Close from any goroutine.
type Stream interface {
	// ReadMessage returns the next message. The slice needs to stay valid
	// only until the next ReadMessage call (*secretstream.Conn reuses its
	// buffer): the Mux copies the messages its handlers may keep (all but
	// those of AddTransientMessage types). Empty messages are ignored. It returns an
	// error, such as io.EOF, when the stream ends; after Close it must
	// return promptly.
	ReadMessage() ([]byte, error)
	// WriteMessage writes p as one message. It must not keep p after it
	// returns. After Close it must return promptly.
	WriteMessage(p []byte) error
	// Close closes the stream and unblocks ReadMessage and WriteMessage.
	Close() error
}

// pipeDepth is how many messages a Pipe direction holds before
// WriteMessage blocks.
const pipeDepth = 64

// Pipe returns the two ends of an in-memory, message-preserving Stream, as
// net.Pipe does for byte streams. Each direction holds up to 64 messages
// before WriteMessage blocks; WriteMessage copies its argument. Closing
// either end ends both: the closed end's calls return net.ErrClosed, and the
// other end reads the messages already written, then io.EOF, and its
// writes fail with io.ErrClosedPipe. Pipe is meant for tests, examples and
// benchmarks.
func Pipe() (Stream, Stream) {
	ab, ba := newPipeQueue(), newPipeQueue()
	st := &pipeState{}
	return &pipeEnd{rx: ba, tx: ab, st: st, side: 0}, &pipeEnd{rx: ab, tx: ba, st: st, side: 1}
}

// pipeState is what both ends share: which of them is closed.
type pipeState struct {
	mu     sync.Mutex
	closed [2]bool
}

// pipeQueue is one direction of a Pipe: a ring of pipeDepth messages.
type pipeQueue struct {
	mu       sync.Mutex
	ring     [pipeDepth][]byte
	head, n  int
	ended    bool          // an end closed: no more writes
	rwait    bool          // the reader waits on readable
	wwait    bool          // the writer waits on writable
	readable chan struct{} // cap 1: a message arrived, or the pipe ended
	writable chan struct{} // cap 1: a message left, or the pipe ended
}

func newPipeQueue() *pipeQueue {
	return &pipeQueue{readable: make(chan struct{}, 1), writable: make(chan struct{}, 1)}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// ownedMessages is implemented by streams whose ReadMessage returns a
// slice the caller owns, so the Mux need not copy it.
type ownedMessages interface{ ownedMessages() }

// pipeEnd is one end of a Pipe.
type pipeEnd struct {
	rx, tx *pipeQueue
	st     *pipeState
	side   int
}

// ownedMessages: ReadMessage returns the copy WriteMessage made.
func (p *pipeEnd) ownedMessages() {}

func (p *pipeEnd) closed() (self, peer bool) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	return p.st.closed[p.side], p.st.closed[1-p.side]
}

func (p *pipeEnd) ReadMessage() ([]byte, error) {
	q := p.rx
	for {
		q.mu.Lock()
		if q.n > 0 {
			m := q.ring[q.head]
			q.ring[q.head] = nil
			q.head = (q.head + 1) % pipeDepth
			q.n--
			wake := q.wwait
			q.wwait = false
			q.mu.Unlock()
			if wake {
				signal(q.writable)
			}
			return m, nil
		}
		ended := q.ended
		q.rwait = !ended
		q.mu.Unlock()
		if ended {
			if self, _ := p.closed(); self {
				return nil, net.ErrClosed
			}
			return nil, io.EOF
		}
		<-q.readable
	}
}

func (p *pipeEnd) WriteMessage(b []byte) error {
	q := p.tx
	m := append([]byte(nil), b...)
	for {
		q.mu.Lock()
		if q.ended {
			q.mu.Unlock()
			if self, _ := p.closed(); self {
				return net.ErrClosed
			}
			return io.ErrClosedPipe
		}
		if q.n < pipeDepth {
			q.ring[(q.head+q.n)%pipeDepth] = m
			q.n++
			wake := q.rwait
			q.rwait = false
			q.mu.Unlock()
			if wake {
				signal(q.readable)
			}
			return nil
		}
		q.wwait = true
		q.mu.Unlock()
		<-q.writable
	}
}

func (p *pipeEnd) Close() error {
	p.st.mu.Lock()
	p.st.closed[p.side] = true
	p.st.mu.Unlock()
	for _, q := range []*pipeQueue{p.rx, p.tx} {
		q.mu.Lock()
		q.ended = true
		if q == p.rx { // the closed end reads nothing more
			clear(q.ring[:])
			q.n = 0
		}
		q.mu.Unlock()
		signal(q.readable)
		signal(q.writable)
	}
	return nil
}
