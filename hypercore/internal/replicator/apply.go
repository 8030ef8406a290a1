package replicator

import (
	"sync"

	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/internal/bufpool"
	"github.com/gopear/gopear/protomux"
)

// BatchApplier is a [Core] that can apply several data messages at once,
// storing the blocks of many in one write. The replicator uses it when
// the core implements it: data that arrives while earlier data is being
// applied queues up and is applied together.
type BatchApplier interface {
	// ApplyBatch applies ds in order, with the same result as calling
	// Core.Apply on each in turn (out[i] and errs[i] are what Apply would
	// have returned for ds[i], from[i] the peer it came from), except that
	// the storing may be done in fewer writes. from, out and errs have
	// len(ds) entries. A local failure (storage) may fail every entry
	// stored in the same write.
	ApplyBatch(ds []*wire.Data, from []PeerInfo, out []Applied, errs []error)
}

// maxQueuedData bounds the data messages waiting to be applied. Requests
// in flight bound them already (data nobody asked for is dropped before
// it queues, unless push is allowed); past the bound the protomux reader
// waits, which pushes back on the peers as a slow Apply did.
const maxQueuedData = 4096

// queuedData is a data message that passed the replicator's checks and
// waits to be applied.
type queuedData struct {
	p    *peer
	req  *request // nil for pushed data
	d    *wire.Data
	from PeerInfo // p as it was when d arrived
	// reorg: the answer to a fork proof or reorg hash request. Otherwise
	// d's block value is from bufpool (ownData), to give back once applied.
	reorg bool
}

// dataQueue holds the data messages waiting for the apply goroutine, in
// the order they arrived.
type dataQueue struct {
	mu      sync.Mutex
	cond    sync.Cond // signalled when items are taken or the queue stops
	items   []queuedData
	stopped bool
	wake    chan struct{} // capacity 1: items are waiting
}

func (q *dataQueue) init() {
	q.cond.L = &q.mu
	q.wake = make(chan struct{}, 1)
}

// push queues it for the apply goroutine. It waits while the queue is
// full and reports false once the queue has stopped.
func (q *dataQueue) push(it queuedData) bool {
	q.mu.Lock()
	for len(q.items) >= maxQueuedData && !q.stopped {
		q.cond.Wait()
	}
	if q.stopped {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// take returns every queued item, leaving buf's storage for the next
// push.
func (q *dataQueue) take(buf []queuedData) []queuedData {
	q.mu.Lock()
	items := q.items
	q.items = buf[:0]
	q.cond.Broadcast()
	q.mu.Unlock()
	return items
}

// stop drops the queued items and fails pushes from now on.
func (q *dataQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	clear(q.items)
	q.items = nil
	q.cond.Broadcast()
	q.mu.Unlock()
}

// applyLoop applies queued data until the replicator closes.
func (r *Replicator) applyLoop() {
	defer r.wg.Done()
	defer r.queue.stop()
	var items, spare []queuedData
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.queue.wake:
		}
		items = r.queue.take(spare)
		r.applyQueued(items)
		clear(items)
		spare = items
	}
}

// applyQueued applies items in order: reorg answers one by one, runs of
// other data together.
func (r *Replicator) applyQueued(items []queuedData) {
	for len(items) > 0 {
		if it := items[0]; it.reorg {
			it.p.onReorgData(it.req, it.d)
			r.mu.Lock()
			it.p.applying--
			r.mu.Unlock()
			items = items[1:]
			continue
		}
		n := 1
		for n < len(items) && !items[n].reorg {
			n++
		}
		r.applyRun(items[:n])
		items = items[n:]
	}
}

// applyRun applies data messages through the core, then announces what
// they changed and schedules more requests, once for the whole run.
func (r *Replicator) applyRun(items []queuedData) {
	ds := make([]*wire.Data, len(items))
	from := make([]PeerInfo, len(items))
	for i, it := range items {
		ds[i], from[i] = it.d, it.from
	}
	out := make([]Applied, len(items))
	errs := make([]error, len(items))
	r.applyMu.Lock()
	if ba, ok := r.core.(BatchApplier); ok && len(ds) > 1 {
		ba.ApplyBatch(ds, from, out, errs)
	} else {
		for i, d := range ds {
			out[i], errs[i] = r.core.Apply(d, from[i])
		}
	}
	r.applyMu.Unlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	// Cork the muxes of the peers as they are now: an error below may
	// drop a peer, whose mux must still be uncorked to send the close.
	corked := make([]*protomux.Mux, 0, len(r.peers))
	for _, p := range r.peers {
		p.mux.Cork()
		corked = append(corked, p.mux)
	}
	defer func() {
		for _, m := range corked {
			m.Uncork()
		}
	}()
	for i, it := range items {
		if it.req != nil {
			it.p.applying--
			r.detachLocked(it.req)
		}
		if errs[i] != nil {
			r.onApplyErrorLocked(it.p, it.req, errs[i])
			continue
		}
		r.announceAppliedLocked(out[i], it.d)
	}
	r.updateAllLocked()
	for _, it := range items {
		if !it.reorg && it.d.Block != nil {
			bufpool.Put(it.d.Block.Value) // stored: the core keeps no reference
			it.d.Block.Value = nil
		}
	}
}
