package protomux

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/internal/bufpool"
)

// Errors. Errors that end a mux wrap one of these, or are the stream's
// error or a handler's.
var (
	// ErrClosed is returned by operations on a closed mux, and is the
	// mux's error after Close. It matches net.ErrClosed with errors.Is.
	ErrClosed = fmt.Errorf("protomux: mux closed: %w", net.ErrClosed)
	// ErrChannelClosed is returned by operations on a closed channel, and
	// by Channel.WaitOpen when the channel closed before it fully opened.
	// It matches net.ErrClosed with errors.Is.
	ErrChannelClosed = fmt.Errorf("protomux: channel closed: %w", net.ErrClosed)
	// ErrNotOpen is returned by Message.Send before Channel.Open.
	ErrNotOpen = errors.New("protomux: channel not opened")
	// ErrAlreadyOpen is returned by a second Channel.Open.
	ErrAlreadyOpen = errors.New("protomux: channel already opened")
	// ErrExists is returned by Mux.CreateChannel when a channel for the
	// same protocol and id is already open and AllowDuplicate is not set.
	ErrExists = errors.New("protomux: channel already exists")
	// ErrProtocol means the remote sent something protomux does not
	// accept; the mux is destroyed with an error wrapping it.
	ErrProtocol = errors.New("protomux: protocol error")
)

// Options configures a Mux. A nil *Options means the defaults.
type Options struct {
	// HighWaterMark is the number of queued, unwritten bytes above which
	// Drained reports false and WaitDrained waits. Sends are never refused
	// above it. Default 256 KiB.
	HighWaterMark int

	// DeferRead makes New start the mux without reading from the stream:
	// nothing is received until Start is called. A caller that must create
	// channels and register Pair functions before the remote's first frame
	// is handled (corestore, a core's Replicate) sets it, so that an open
	// sent by the remote at once is not rejected for want of a handler.
	// Default false: New starts reading at once.
	DeferRead bool
}

const defaultHighWaterMark = 256 << 10

// Mux multiplexes channels over one Stream. It is safe for concurrent use;
// see the package documentation for how callbacks run.
//
// A Mux owns three goroutines. The reader reads a frame, then handles it
// (decoding, channel tables, callbacks) before it reads the next, so a slow
// callback stops the reading. The task goroutine runs the callbacks that
// calls from other goroutines cause (OnOpen after a later Open, OnClose
// after Close) and shuts the mux down. The writer writes queued frames.
// Callbacks of the reader and the task goroutine are serialized by cbMu.
// Close stops all three and waits for them.
type Mux struct {
	stream Stream
	owned  bool // stream's messages are ours to keep: no copy
	hwm    int

	readerDone chan struct{} // closed when the reader has returned
	start      chan struct{} // closed when the reader may read (Start)
	startOnce  sync.Once
	writerDone chan struct{} // closed when the writer has returned
	wake       chan struct{} // cap 1: tasks were queued
	unpause    chan struct{} // cap 1: buffered went down
	writeWake  chan struct{} // cap 1: frames were queued
	closing    chan struct{} // closed by destroy
	done       chan struct{} // closed when every goroutine has returned

	// cbMu is held while frames are handled and callbacks run, by the
	// reader or the task goroutine: it is what makes callbacks run one at a
	// time. It is taken before mu, never while holding it.
	cbMu sync.Mutex
	// dec is the decoder of whoever holds cbMu, reused for every message.
	dec cenc.Decoder

	// Lock-free mirrors of state guarded by mu, for the per-frame checks.
	closedFlag atomic.Bool // closed
	pausedFlag atomic.Bool // buffered > maxBuffered
	taskFlag   atomic.Bool // len(tasks) > 0

	// mu guards all the fields below, and the mutable fields of every
	// Channel of the mux. It is never held while a callback runs or while
	// the stream is read or written.
	mu       sync.Mutex
	closed   bool  // destroy ran
	err      error // why the mux ended
	local    []*Channel
	free     []int // free indexes of local, most recently freed last
	remote   []*remoteSlot
	infos    map[chanKey]*info
	notify   map[chanKey]func(id []byte)
	channels map[*Channel]struct{} // every channel not yet closed
	tasks    []func() error        // callbacks for whoever holds cbMu next
	buffered int                   // bytes held for parked remote channels

	corked int
	// batch is the batch frame being built while corked (see
	// appendBatchEntryLocked), empty until its first entry; batchChan
	// is the channel of its last entry.
	batch     []byte
	batchChan uint64
	batchCap  int // the size of the last batch, to size the next
	batchSize int // protomux's running batch size, for the maxBatch flush

	queue      [][]byte      // frames for the writer
	spare      [][]byte      // the writer's last queue, reused
	queued     int           // bytes queued or being written
	writerIdle bool          // the writer waits for writeWake
	drainWait  chan struct{} // closed and cleared when queued decreases
}

// remoteSlot is a channel the remote opened, indexed by its id - 1.
type remoteSlot struct {
	session   *Channel // the local channel it is paired with, if any
	handshake []byte   // the remote's handshake, until OnOpen
	parked    bool     // messages are held in pending until the channel opens
	pending   []pendingMessage
}

type pendingMessage struct {
	typ     uint64
	payload []byte
}

// chanKey is the key of a channel: protocol and id.
type chanKey struct {
	protocol string
	id       string
}

func keyOf(protocol string, id []byte) chanKey { return chanKey{protocol, string(id)} }

// info is the pairing state of one key (and its aliases).
type info struct {
	key      chanKey
	aliases  []chanKey
	pairing  int      // Pair functions running for this key
	opened   int      // local channels opened and not closed
	incoming []uint64 // remote ids opened by the remote, not yet paired
	outgoing []uint64 // local ids opened here, not yet answered
	last     *Channel // the channel opened last
}

// New returns a Mux on stream and starts its goroutines. The Mux owns the
// stream: it closes it when the mux ends.
func New(stream Stream, opts *Options) *Mux {
	m := &Mux{
		stream:     stream,
		hwm:        defaultHighWaterMark,
		readerDone: make(chan struct{}),
		start:      make(chan struct{}),
		unpause:    make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		wake:       make(chan struct{}, 1),
		writeWake:  make(chan struct{}, 1),
		writerIdle: true,
		closing:    make(chan struct{}),
		done:       make(chan struct{}),
		infos:      make(map[chanKey]*info),
		notify:     make(map[chanKey]func([]byte)),
		channels:   make(map[*Channel]struct{}),
	}
	_, m.owned = stream.(ownedMessages)
	if opts != nil && opts.HighWaterMark > 0 {
		m.hwm = opts.HighWaterMark
	}
	if opts == nil || !opts.DeferRead {
		m.Start()
	}
	go m.reader()
	go m.writer()
	go m.taskLoop()
	return m
}

// Start lets the mux read from its stream. It is needed only after New with
// Options.DeferRead; calling it again, or after the mux ended, does nothing.
func (m *Mux) Start() { m.startOnce.Do(func() { close(m.start) }) }

// Stream returns the stream the mux runs on.
func (m *Mux) Stream() Stream { return m.stream }

// Close ends the mux: it closes the stream, closes every channel (their
// OnClose runs with remote set to true, as protomux does on stream close),
// and waits for the mux's goroutines. Frames queued but not yet written are
// dropped; call Flush first to send them. Close is idempotent and returns
// nil; it must not be called from a callback (use Destroy).
func (m *Mux) Close() error {
	m.destroy(ErrClosed)
	<-m.done
	return nil
}

// Destroy ends the mux with err (ErrClosed if nil) and returns without
// waiting; Err then returns err. It may be called from callbacks.
func (m *Mux) Destroy(err error) {
	if err == nil {
		err = ErrClosed
	}
	m.destroy(err)
}

// Done returns a channel closed once the mux has ended and its goroutines
// have returned.
func (m *Mux) Done() <-chan struct{} { return m.done }

// Err returns why the mux ended: nil while it runs, ErrClosed after Close,
// an error wrapping ErrProtocol after a remote's protocol violation, the
// stream's error (wrapping io.EOF when the remote ended the stream), or a
// callback's error.
func (m *Mux) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// destroy records err, closes the stream and tells the goroutines to stop.
func (m *Mux) destroy(err error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.closedFlag.Store(true)
	m.err = err
	m.queue = nil
	m.batch = nil
	m.mu.Unlock()
	close(m.closing)
	m.stream.Close()
}

// CreateChannel creates a channel for opts.Protocol and opts.ID. Register
// its messages with AddMessage, then call Open. It fails with ErrClosed
// when the mux has ended and with ErrExists when a channel of the key is
// already open and opts.AllowDuplicate is false.
//
// If the remote has opened the key and is waiting (CreateChannel is called
// from a Pair function, typically), the channel is paired with the remote's
// channel and becomes fully open as soon as Open is called.
func (m *Mux) CreateChannel(opts ChannelOptions) (*Channel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	inf := m.getLocked(opts.Protocol, opts.ID, opts.Aliases)
	if !opts.AllowDuplicate && inf.opened > 0 {
		return nil, ErrExists
	}
	ch := &Channel{
		mux:      m,
		info:     inf,
		opts:     opts,
		id:       slices.Clone(opts.ID),
		openedCh: make(chan struct{}),
		closedCh: make(chan struct{}),
	}
	if len(inf.incoming) > 0 {
		remoteID := inf.incoming[0]
		inf.incoming = inf.incoming[1:]
		r := m.remote[remoteID-1]
		if r == nil {
			return nil, ErrChannelClosed
		}
		ch.remoteID = remoteID
		r.session = ch
	}
	m.channels[ch] = struct{}{}
	return ch, nil
}

// Pair registers fn to be called when the remote opens a channel for
// (protocol, id) that no local channel is waiting for. A nil id registers
// fn for every id of protocol that has no function of its own. fn runs as a
// callback (see the package documentation) and receives the remote's id; to accept, it calls
// CreateChannel for the key and Open on the result. When fn returns
// without doing so, the mux rejects the remote's open. Pair replaces an
// earlier function for the same key.
func (m *Mux) Pair(protocol string, id []byte, fn func(id []byte)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notify[keyOf(protocol, id)] = fn
}

// Unpair removes the function Pair registered for (protocol, id).
func (m *Mux) Unpair(protocol string, id []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.notify, keyOf(protocol, id))
}

// Opened reports whether a local channel for (protocol, id), or for a
// protocol that has it as an alias, is open (Open called, not closed).
func (m *Mux) Opened(protocol string, id []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	inf := m.infos[keyOf(protocol, id)]
	return inf != nil && inf.opened > 0
}

// Cork starts collecting the frames sent on the mux into one batch frame,
// sent by the matching Uncork. Cork and Uncork nest.
func (m *Mux) Cork() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.corked++; m.corked == 1 {
		m.batch = nil
		m.batchSize = 1
	}
}

// Uncork ends a Cork. The last Uncork sends the batch. An Uncork without a
// Cork does nothing.
func (m *Mux) Uncork() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.corked == 0 {
		return
	}
	if m.corked--; m.corked == 0 {
		m.flushBatchLocked()
	}
}

// Drained reports whether the bytes queued for the stream are at most the
// high-water mark (protomux's mux.drained).
func (m *Mux) Drained() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.queued <= m.hwm
}

// WaitDrained waits until the bytes queued for the stream are at most the
// high-water mark. Producers call it between sends to keep the queue
// bounded. It must not be called from a callback.
func (m *Mux) WaitDrained(ctx context.Context) error { return m.waitQueued(ctx, m.hwm) }

// Flush waits until every frame queued so far has been written to the
// stream. It must not be called from a callback.
func (m *Mux) Flush(ctx context.Context) error { return m.waitQueued(ctx, 0) }

func (m *Mux) waitQueued(ctx context.Context, limit int) error {
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return ErrClosed
		}
		if m.queued <= limit {
			m.mu.Unlock()
			return nil
		}
		if m.drainWait == nil {
			m.drainWait = make(chan struct{})
		}
		w := m.drainWait
		m.mu.Unlock()
		select {
		case <-w:
		case <-m.closing:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// getLocked returns the info of (protocol, id), creating it, and its
// aliases, when missing.
func (m *Mux) getLocked(protocol string, id []byte, aliases []string) *info {
	key := keyOf(protocol, id)
	if inf := m.infos[key]; inf != nil {
		return inf
	}
	inf := &info{key: key}
	m.infos[key] = inf
	for _, a := range aliases {
		ak := keyOf(a, id)
		inf.aliases = append(inf.aliases, ak)
		m.infos[ak] = inf
	}
	return inf
}

// gcLocked forgets inf once nothing refers to it.
func (m *Mux) gcLocked(inf *info) {
	if inf.opened != 0 || len(inf.outgoing) != 0 || len(inf.incoming) != 0 || inf.pairing != 0 {
		return
	}
	if m.infos[inf.key] == inf {
		delete(m.infos, inf.key)
	}
	for _, a := range inf.aliases {
		if m.infos[a] == inf {
			delete(m.infos, a)
		}
	}
}

// writeControlLocked queues a control frame, or adds it to the batch.
func (m *Mux) writeControlLocked(frame []byte) {
	if m.corked > 0 {
		m.pushBatchLocked(0, frame[1:])
		return
	}
	m.enqueueLocked(frame)
}

// pushBatchLocked adds a message (uint type ‖ payload) for channel to the
// batch.
func (m *Mux) pushBatchLocked(channel uint64, data []byte) {
	m.batch = append(m.appendBatchEntryLocked(channel, len(data)), data...)
}

// appendBatchEntryLocked starts the next entry of the batch, for a
// message of size bytes (uint type ‖ payload) on channel, and returns the
// batch for the caller to append the message to. It flushes the batch
// first when it has reached maxBatch. The frame is
//
//	00 00 ‖ uint firstChannel ‖ (uint len ‖ message | 00 ‖ uint nextChannel)…
//
// where a zero length switches the channel of the entries that follow.
func (m *Mux) appendBatchEntryLocked(channel uint64, size int) []byte {
	if m.batchSize >= maxBatch {
		m.flushBatchLocked()
	}
	b := m.batch
	switch {
	case len(b) == 0:
		if b == nil {
			b = bufpool.Get(max(m.batchCap, 2+9+cenc.BufferLen(size)))
		}
		b = cenc.AppendUint(append(b, 0, typeBatch), channel)
		m.batchSize += 1 + cenc.UintLen(channel)
	case channel != m.batchChan:
		b = cenc.AppendUint(append(b, 0), channel)
		m.batchSize += 1 + cenc.UintLen(channel)
	}
	m.batchChan = channel
	m.batchSize += cenc.BufferLen(size)
	if need := len(b) + cenc.BufferLen(size); need > cap(b) {
		// Grow within bufpool's classes, so that the frame goes back to
		// the pool once written.
		nb := append(bufpool.Get(max(need, 2*cap(b))), b...)
		bufpool.Put(b)
		b = nb
		m.batch = b // for restoreBatch: the old buffer is the pool's now
	}
	return cenc.AppendUint(b, uint64(size))
}

// batchMark is the state of the batch before an entry, to take the entry
// back with restoreBatch.
type batchMark struct {
	n, size int
	channel uint64
}

func (m *Mux) batchState() batchMark {
	return batchMark{len(m.batch), m.batchSize, m.batchChan}
}

// restoreBatch takes back the entries added since the mark. The batch
// must not have been flushed since.
func (m *Mux) restoreBatch(b batchMark) {
	m.batch, m.batchSize, m.batchChan = m.batch[:b.n], b.size, b.channel
}

// flushBatchLocked queues the batch as one frame and empties it.
func (m *Mux) flushBatchLocked() {
	if len(m.batch) > 0 {
		m.batchCap = len(m.batch)
		m.enqueueLocked(m.batch)
	}
	m.batch = nil
	m.batchSize = 1
}

// enqueueLocked queues a frame for the writer.
func (m *Mux) enqueueLocked(frame []byte) {
	if m.closed {
		return
	}
	m.queue = append(m.queue, frame)
	m.queued += len(frame)
	if m.writerIdle {
		m.writerIdle = false
		signal(m.writeWake)
	}
}

// postLocked queues a callback; the reader runs it after the frame it is
// handling, or the task goroutine runs it.
func (m *Mux) postLocked(task func() error) {
	m.tasks = append(m.tasks, task)
	m.taskFlag.Store(true)
	signal(m.wake)
}

// reader reads frames and handles each before reading the next.
func (m *Mux) reader() {
	defer close(m.readerDone)
	select {
	case <-m.start:
	case <-m.closing:
		return
	}
	for {
		if !m.waitUnpaused() {
			return
		}
		p, err := m.stream.ReadMessage()
		if err != nil {
			m.destroy(fmt.Errorf("protomux: read: %w", err))
			return
		}
		if len(p) == 0 {
			continue // protomux ignores empty frames
		}
		m.cbMu.Lock()
		if m.isClosed() {
			m.cbMu.Unlock()
			return
		}
		err = m.handleFrame(p)
		if err == nil {
			err = m.runTasks()
		}
		m.cbMu.Unlock()
		if err != nil {
			m.destroy(err)
			return
		}
	}
}

// waitUnpaused waits while messages held for paired, unopened channels
// exceed maxBuffered. It returns false when the mux ends.
func (m *Mux) waitUnpaused() bool {
	for {
		if m.closedFlag.Load() {
			return false
		}
		if !m.pausedFlag.Load() {
			return true
		}
		select {
		case <-m.unpause:
		case <-m.closing:
			return false
		}
	}
}

func (m *Mux) isClosed() bool { return m.closedFlag.Load() }

// writer writes queued frames to the stream.
func (m *Mux) writer() {
	defer close(m.writerDone)
	for {
		select {
		case <-m.writeWake:
		case <-m.closing:
			return
		}
		for {
			m.mu.Lock()
			q := m.queue
			m.queue = m.spare[:0]
			m.spare = nil
			if len(q) == 0 {
				m.writerIdle = true
			}
			m.mu.Unlock()
			if len(q) == 0 {
				break
			}
			n := 0
			for _, f := range q {
				if err := m.stream.WriteMessage(f); err != nil {
					m.destroy(fmt.Errorf("protomux: write: %w", err))
					return
				}
				n += len(f)
			}
			for i, f := range q {
				bufpool.Put(f) // a Stream does not keep a message after WriteMessage
				q[i] = nil
			}
			m.mu.Lock()
			m.queued -= n
			if m.drainWait != nil {
				close(m.drainWait)
				m.drainWait = nil
			}
			if m.spare == nil {
				m.spare = q[:0]
			}
			m.mu.Unlock()
		}
	}
}

// taskLoop runs the callbacks queued from other goroutines, and shuts the
// mux down when it ends.
func (m *Mux) taskLoop() {
	defer close(m.done)
	for {
		select {
		case <-m.wake:
			m.cbMu.Lock()
			err := m.runTasks()
			m.cbMu.Unlock()
			if err != nil {
				m.destroy(err)
			}
		case <-m.closing:
			<-m.readerDone // out of any callback, and reading no more
			m.cbMu.Lock()
			m.shutdown()
			m.cbMu.Unlock()
			<-m.writerDone
			return
		}
	}
}

// shutdown closes every channel and runs the remaining callbacks.
func (m *Mux) shutdown() {
	m.mu.Lock()
	for _, ch := range m.local {
		if ch != nil {
			m.closeChannelLocked(ch, true)
		}
	}
	for ch := range m.channels {
		m.closeChannelLocked(ch, true)
	}
	m.remote = nil
	m.addBufferedLocked(-m.buffered)
	m.mu.Unlock()
	m.runTasks()
}

// runTasks runs queued tasks in order, including tasks they queue, and
// returns the first error; the remaining tasks still run. The caller holds
// cbMu.
func (m *Mux) runTasks() error {
	var first error
	for m.taskFlag.Load() {
		m.mu.Lock()
		tasks := m.tasks
		m.tasks = nil
		m.taskFlag.Store(false)
		m.mu.Unlock()
		for _, t := range tasks {
			if err := t(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// handleFrame handles one frame. A batch frame corks the mux while its
// messages are handled, so that replies go out as one batch too.
func (m *Mux) handleFrame(frame []byte) error {
	isBatch := len(frame) >= 2 && frame[0] == 0 && frame[1] == typeBatch
	if isBatch {
		m.Cork()
		defer m.Uncork()
	}
	err := parseFrame(frame, m.handleMessage)
	if isBatch && err == nil {
		err = m.runTasks()
	}
	return err
}

// handleMessage handles one message of a frame.
func (m *Mux) handleMessage(channel, typ uint64, payload []byte) error {
	if channel == 0 {
		switch typ {
		case typeOpen:
			return m.onOpen(m.own(payload))
		case typeReject:
			return m.onReject(payload)
		case typeClose:
			return m.onClose(payload)
		}
		return nil // unknown control messages are ignored
	}
	m.mu.Lock()
	if m.closed || channel > uint64(len(m.remote)) {
		m.mu.Unlock()
		return nil
	}
	r := m.remote[channel-1]
	if r == nil { // closed or never opened: ignore, as protomux does
		m.mu.Unlock()
		return nil
	}
	if r.parked {
		r.pending = append(r.pending, pendingMessage{typ, m.own(payload)})
		m.addBufferedLocked(bufferedOverhead + len(payload))
		m.mu.Unlock()
		return nil
	}
	var rcv receiver
	if ch := r.session; ch != nil && !ch.closed && typ < uint64(len(ch.messages)) {
		rcv = ch.messages[typ]
	}
	m.mu.Unlock()
	if rcv == nil {
		return nil // unknown types are ignored
	}
	if !rcv.transient() {
		payload = m.own(payload)
	}
	m.dec.Reset(payload)
	return rcv.receive(&m.dec, typ)
}

// own returns a message of a frame read from the stream as one that may
// be kept: the stream's buffer is reused for the next frame, unless the
// stream's messages are owned.
func (m *Mux) own(p []byte) []byte {
	if m.owned {
		return p
	}
	return bytes.Clone(p)
}

// deliver decodes a message for ch and runs its handler; payload is owned
// (held while the channel was parked).
func (m *Mux) deliver(ch *Channel, typ uint64, payload []byte) error {
	m.mu.Lock()
	var rcv receiver
	if !ch.closed && typ < uint64(len(ch.messages)) {
		rcv = ch.messages[typ]
	}
	m.mu.Unlock()
	if rcv == nil {
		return nil
	}
	m.dec.Reset(payload)
	return rcv.receive(&m.dec, typ)
}

// onOpen handles an open control message.
func (m *Mux) onOpen(p []byte) error {
	d := &m.dec
	d.Reset(p)
	remoteID := d.Uint()
	protocol := d.String()
	id := d.OptionalBuffer()
	if err := d.Err(); err != nil {
		return frameError("open message", err)
	}
	handshake := p[d.Offset():]
	if remoteID == 0 {
		// protomux tries to reject channel 0, fails, and destroys the
		// stream.
		return fmt.Errorf("%w: open message for channel 0", ErrProtocol)
	}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	rid := remoteID - 1
	inf := m.getLocked(protocol, id, nil)
	if rid == uint64(len(m.remote)) {
		m.remote = append(m.remote, nil) // the remote may grow its ids by one
	}
	if rid >= uint64(len(m.remote)) || m.remote[rid] != nil {
		m.gcLocked(inf)
		m.mu.Unlock()
		return fmt.Errorf("%w: invalid open message: channel %d", ErrProtocol, remoteID)
	}

	if len(inf.outgoing) > 0 {
		// A local channel is waiting for this key: pair.
		localID := inf.outgoing[0]
		inf.outgoing = inf.outgoing[1:]
		ch := m.local[localID-1]
		if ch == nil { // closed here already; its close frame is on its way
			m.free = append(m.free, int(localID-1))
			m.gcLocked(inf)
			m.mu.Unlock()
			return nil
		}
		m.remote[rid] = &remoteSlot{session: ch, handshake: handshake}
		ch.remoteID = remoteID
		m.mu.Unlock()
		return m.fullyOpen(ch)
	}

	// Park the remote channel and ask the Pair function.
	m.remote[rid] = &remoteSlot{handshake: handshake, parked: true}
	inf.pairing++
	inf.incoming = append(inf.incoming, remoteID)
	fn := m.notify[keyOf(protocol, id)]
	if fn == nil {
		fn = m.notify[keyOf(protocol, nil)]
	}
	m.mu.Unlock()

	if fn != nil {
		fn(id)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if inf.pairing--; inf.pairing > 0 {
		return nil
	}
	for len(inf.incoming) > 0 {
		r := inf.incoming[0]
		inf.incoming = inf.incoming[1:]
		m.rejectLocked(r)
	}
	m.gcLocked(inf)
	return nil
}

// rejectLocked drops the remote channel remoteID and sends a reject.
func (m *Mux) rejectLocked(remoteID uint64) {
	m.dropRemoteLocked(remoteID)
	m.writeControlLocked(appendControl(nil, typeReject, remoteID))
}

// dropRemoteLocked forgets remote channel remoteID and what it held.
func (m *Mux) dropRemoteLocked(remoteID uint64) {
	if m.closed || remoteID == 0 || remoteID > uint64(len(m.remote)) {
		return
	}
	r := m.remote[remoteID-1]
	if r == nil {
		return
	}
	for _, pm := range r.pending {
		m.addBufferedLocked(-(bufferedOverhead + len(pm.payload)))
	}
	m.remote[remoteID-1] = nil
	m.unpauseLocked()
}

// addBufferedLocked changes buffered by n and updates pausedFlag.
func (m *Mux) addBufferedLocked(n int) {
	m.buffered += n
	m.pausedFlag.Store(m.buffered > maxBuffered)
}

// unpauseLocked wakes the reader if it waits on buffered.
func (m *Mux) unpauseLocked() { signal(m.unpause) }

// onReject handles a reject control message: the remote refused one of our
// opens.
func (m *Mux) onReject(p []byte) error {
	d := &m.dec
	d.Reset(p)
	localID := d.Uint()
	if err := d.Err(); err != nil {
		return frameError("reject message", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	for _, inf := range m.infos {
		i := slices.Index(inf.outgoing, localID)
		if i < 0 {
			continue
		}
		inf.outgoing = slices.Delete(inf.outgoing, i, i+1)
		m.free = append(m.free, int(localID-1))
		if ch := m.local[localID-1]; ch != nil {
			m.closeChannelLocked(ch, true)
		}
		m.gcLocked(inf)
		return nil
	}
	return fmt.Errorf("%w: invalid reject message: channel %d", ErrProtocol, localID)
}

// onClose handles a close control message.
func (m *Mux) onClose(p []byte) error {
	d := &m.dec
	d.Reset(p)
	remoteID := d.Uint()
	if err := d.Err(); err != nil {
		return frameError("close message", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || remoteID == 0 || remoteID > uint64(len(m.remote)) {
		return nil
	}
	// A close for a remote channel that is parked and unpaired is ignored,
	// as protomux ignores it.
	if r := m.remote[remoteID-1]; r != nil && r.session != nil {
		m.closeChannelLocked(r.session, true)
	}
	return nil
}

// fullyOpen runs, holding cbMu, once both sides have opened ch: it
// runs OnOpen with the remote's handshake, then delivers the messages held
// for the channel.
func (m *Mux) fullyOpen(ch *Channel) error {
	m.mu.Lock()
	if ch.opened || ch.closed || m.closed || ch.remoteID == 0 || ch.localID == 0 {
		m.mu.Unlock()
		return nil
	}
	r := m.remote[ch.remoteID-1]
	if r == nil || r.session != ch {
		m.mu.Unlock()
		return nil
	}
	handshake := r.handshake
	r.handshake = nil
	m.mu.Unlock()

	if fn := ch.opts.OnOpen; fn != nil {
		if err := fn(ch, handshake); err != nil {
			return err
		}
	}

	m.mu.Lock()
	if ch.closed || m.closed {
		m.mu.Unlock()
		return nil
	}
	pending := r.pending
	for _, pm := range pending {
		m.addBufferedLocked(-(bufferedOverhead + len(pm.payload)))
	}
	r.pending = nil
	r.parked = false
	m.unpauseLocked()
	ch.opened = true
	close(ch.openedCh)
	m.mu.Unlock()

	for _, pm := range pending {
		if err := m.deliver(ch, pm.typ, pm.payload); err != nil {
			return err
		}
	}
	return nil
}

// closeChannelLocked closes ch and queues its OnClose and OnDestroy.
func (m *Mux) closeChannelLocked(ch *Channel, remote bool) {
	if ch.closed {
		return
	}
	ch.closed = true
	delete(m.channels, ch)
	inf := ch.info
	if ch.localID > 0 {
		inf.opened--
		if inf.last == ch {
			inf.last = nil
		}
		if ch.remoteID > 0 {
			// The remote knows the local id, so it can be reused now;
			// otherwise it is freed when the remote's open or reject
			// arrives.
			m.dropRemoteLocked(ch.remoteID)
			m.free = append(m.free, int(ch.localID-1))
		}
		m.local[ch.localID-1] = nil
		ch.localID = 0
	} else if ch.remoteID > 0 {
		m.dropRemoteLocked(ch.remoteID)
	}
	ch.remoteID = 0
	m.gcLocked(inf)
	close(ch.closedCh)
	if ch.opts.OnClose == nil && ch.opts.OnDestroy == nil {
		return
	}
	m.postLocked(func() error {
		if fn := ch.opts.OnClose; fn != nil {
			fn(ch, remote)
		}
		if fn := ch.opts.OnDestroy; fn != nil {
			fn(ch)
		}
		return nil
	})
}
