package hypercore

import (
	"sync"
)

// EventKind says what an [Event] reports.
type EventKind int

// The kinds of events, named after JS hypercore's events.
const (
	// EventAppend: the core grew, by a local append or an upgrade from a
	// peer ('append'). Start is the length before.
	EventAppend EventKind = iota + 1
	// EventTruncate: the core was truncated to Start blocks and moved to
	// fork Fork, locally or by a peer's reorg ('truncate').
	EventTruncate
	// EventDownload: block Start (Bytes bytes) was downloaded from a peer
	// and verified ('download').
	EventDownload
	// EventUpload: block Start (Bytes bytes) was sent to a peer ('upload').
	EventUpload
	// EventManifest: the core learned its manifest from a peer
	// ('manifest').
	EventManifest
	// EventClose: the core closed ('close'); no event follows.
	EventClose
	// EventPeerAdd: a replication channel of the core fully opened, so
	// Peer is now one of [Core.Peers] ('peer-add').
	EventPeerAdd
	// EventPeerRemove: Peer, which an EventPeerAdd announced, is gone:
	// its channel closed, it was dropped for misbehaving, or the core is
	// closing ('peer-remove').
	EventPeerRemove
)

// String returns the JS name of the event.
func (k EventKind) String() string {
	switch k {
	case EventAppend:
		return "append"
	case EventTruncate:
		return "truncate"
	case EventDownload:
		return "download"
	case EventUpload:
		return "upload"
	case EventManifest:
		return "manifest"
	case EventClose:
		return "close"
	case EventPeerAdd:
		return "peer-add"
	case EventPeerRemove:
		return "peer-remove"
	}
	return "unknown"
}

// Event is something that happened to a core, as [Core.Watch] delivers it.
type Event struct {
	Kind EventKind
	// Fork, Length and ByteLength are the core's right after the event
	// (zero for EventClose).
	Fork, Length, ByteLength uint64
	// Start is the kind's index: the length before an append, the new
	// length of a truncation, the block of a download or upload.
	Start uint64
	// Bytes is the size of the downloaded or uploaded block.
	Bytes uint64
	// Peer is the peer of EventPeerAdd and EventPeerRemove, the peer an
	// EventDownload's block came from and an EventUpload's went to (JS
	// 'download' and 'upload' from), as it was at that moment; its Mux
	// matches the Mux of the same peer in [Core.Peers] and in extension
	// messages. Zero for other kinds.
	Peer PeerInfo
}

// Watch calls fn for every event of the core from now on, in order, on a
// goroutine of its own, until stop is called or the session closes
// (the session's Close waits for a call in progress). The core never
// waits for fn: events queue up while fn runs. Consecutive append events
// waiting in the queue are merged into one (the latest length, the
// earliest Start), so a slow watcher of a growing core does not fall
// behind without bound. stop may be called from fn and more than once.
//
// Every session of a core sees the events of the core, snapshots
// included. Peers already open when Watch is called are not announced:
// to follow the peer set, call Watch first and then [Core.Peers] (a peer
// may then be seen twice, never missed).
func (c *Core) Watch(fn func(Event)) (stop func()) {
	w := &watcher{fn: fn, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	c.watchMu.Lock()
	select {
	case <-c.done:
		c.watchMu.Unlock()
		return func() {}
	default:
	}
	if c.watchers == nil {
		c.watchers = make(map[*watcher]struct{})
	}
	c.watchers[w] = struct{}{}
	c.watchWG.Add(1)
	c.watchMu.Unlock()

	c.st.events.add(w)
	go func() {
		defer c.watchWG.Done()
		w.run()
	}()
	return func() {
		c.st.events.remove(w)
		w.stop()
		c.watchMu.Lock()
		delete(c.watchers, w)
		c.watchMu.Unlock()
	}
}

// stopWatchers stops the session's watchers and waits for them.
func (c *Core) stopWatchers() {
	c.watchMu.Lock()
	ws := c.watchers
	c.watchers = nil
	c.watchMu.Unlock()
	for w := range ws {
		c.st.events.remove(w)
		w.stop()
	}
	c.watchWG.Wait()
}

// hub fans a core's events out to its watchers. emit never blocks.
type hub struct {
	mu     sync.Mutex
	ws     map[*watcher]struct{}
	closed bool
}

func (h *hub) add(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		w.stop()
		return
	}
	if h.ws == nil {
		h.ws = make(map[*watcher]struct{})
	}
	h.ws[w] = struct{}{}
}

func (h *hub) remove(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.ws, w)
}

// emit queues ev for every watcher.
func (h *hub) emit(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.ws {
		w.push(ev)
	}
}

// close stops every watcher once the events queued so far are delivered.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.ws {
		w.finish()
	}
	clear(h.ws)
}

// watcher is one Watch: a queue of events and the goroutine that
// delivers them.
type watcher struct {
	fn   func(Event)
	wake chan struct{} // capacity 1: the queue has events, or finishing
	quit chan struct{} // closed by stop: deliver nothing more

	mu        sync.Mutex
	queue     []Event
	finishing bool // deliver the queue, then exit
	stopOnce  sync.Once
}

func (w *watcher) push(ev Event) {
	w.mu.Lock()
	if n := len(w.queue); n > 0 && ev.Kind == EventAppend && w.queue[n-1].Kind == EventAppend {
		start := w.queue[n-1].Start
		w.queue[n-1] = ev
		w.queue[n-1].Start = start
	} else {
		w.queue = append(w.queue, ev)
	}
	w.mu.Unlock()
	w.signal()
}

func (w *watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *watcher) finish() {
	w.mu.Lock()
	w.finishing = true
	w.mu.Unlock()
	w.signal()
}

func (w *watcher) stop() { w.stopOnce.Do(func() { close(w.quit) }) }

func (w *watcher) run() {
	for {
		select {
		case <-w.quit:
			return
		case <-w.wake:
		}
		for {
			w.mu.Lock()
			if len(w.queue) == 0 {
				done := w.finishing
				w.mu.Unlock()
				if done {
					return
				}
				break
			}
			ev := w.queue[0]
			w.queue[0] = Event{}
			w.queue = w.queue[1:]
			w.mu.Unlock()
			select {
			case <-w.quit:
				return
			default:
			}
			w.fn(ev)
		}
	}
}
