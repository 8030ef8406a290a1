package replicator

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/internal/bufpool"
)

// maxScan bounds how many blocks past its cursor a download looks at per
// scheduling pass.
const maxScan = 1 << 12

// maxFullNodes bounds Replicator.fullNodes; past it, the set starts over.
const maxFullNodes = 1 << 12

// updateAllLocked hands out work to the peers: reorgs, the manifest, the
// blocks waiters want, downloads, then the pending update (JS updateAll,
// with _updatePeer and _updatePeerNonPrimary).
func (r *Replicator) updateAllLocked() {
	if r.closed {
		return
	}
	st := r.core.State()
	r.setWindowLocked(st)
	r.resolveUpgradeLocked(st)
	ps := r.shuffledPeersLocked()
	if len(ps) > 0 {
		r.updateReorgLocked(st, ps)
		if !st.HasManifest && r.manifestRq == nil {
			for _, p := range ps {
				if p.remoteLength == 0 && p.remoteHasManifest && r.hasCapacityLocked(p) {
					req := r.makeRequestLocked(p, st, false)
					req.msg.Manifest = true
					r.manifestRq = req
					r.sendRequestLocked(req, st)
					break
				}
			}
		}
		for _, bw := range r.blocks {
			if bw.refs > 0 && bw.req == nil {
				r.requestBlockLocked(bw, st, ps)
			}
		}
	}
	for i := 0; i < len(r.downloads); {
		d := r.downloads[i]
		if r.scheduleDownloadLocked(d, st, ps) {
			r.downloads = append(r.downloads[:i], r.downloads[i+1:]...)
			continue
		}
		i++
	}
	if u := r.upgrade; u != nil && u.req == nil {
		for _, p := range ps {
			if r.hasCapacityLocked(p) && r.shouldUpgradeLocked(p, st) {
				r.sendRequestLocked(r.makeRequestLocked(p, st, true), st)
				break
			}
		}
	}
	r.checkUpgradeLocked(st)
}

func (r *Replicator) hasCapacityLocked(p *peer) bool {
	return p.activeLocked() && p.remoteUploading && p.load() < r.window
}

// setWindowLocked sets the window of requests in flight per peer for the
// core's state (see Options.MaxInflight): what holds windowBytes of the
// core's average block or of the largest block received, the larger.
func (r *Replicator) setWindowLocked(st State) {
	r.window = r.opts.MaxInflight
	if !r.autoWindow || st.Length == 0 {
		return
	}
	size := max(1, st.ByteLength/st.Length, uint64(r.largestBlock))
	r.window = int(min(maxWindow, max(defaultWindow, windowBytes/size)))
}

// shouldUpgradeLocked reports whether p can upgrade us now (JS
// _shouldUpgrade).
func (r *Replicator) shouldUpgradeLocked(p *peer, st State) bool {
	if u := r.upgrade; u != nil && u.req != nil {
		return false
	}
	return p.remoteCanUpgrade && p.remoteLength > st.Length && p.lengthAcked == st.Length
}

// canRequestLocked reports whether p's tree is known to extend ours, so
// that its proofs for block index verify against our tree (JS _canRequest).
func (r *Replicator) canRequestLocked(p *peer, index uint64, st State) bool {
	if p.remoteLength >= st.Length {
		return true
	}
	if index < p.lastUpgradableLength && p.lastUpgradableFork == st.Fork {
		return true
	}
	return p.canUpgrade
}

// makeRequestLocked returns a request to p, with an upgrade to p's length
// when needsUpgrade, or when an update is pending and p can give it (JS
// _makeRequest).
func (r *Replicator) makeRequestLocked(p *peer, st State, needsUpgrade bool) *request {
	if !needsUpgrade && r.upgrade != nil && p.remoteFork == st.Fork && r.shouldUpgradeLocked(p, st) {
		needsUpgrade = true
	}
	req := &request{peer: p, msg: wire.Request{
		Fork:     p.remoteFork,
		Manifest: !st.HasManifest && p.remoteHasManifest,
	}}
	if needsUpgrade && p.remoteLength > st.Length {
		req.msg.Upgrade = &wire.RequestUpgrade{Start: st.Length, Length: p.remoteLength - st.Length}
	}
	return req
}

// sendRequestLocked assigns an id to req and sends it.
func (r *Replicator) sendRequestLocked(req *request, st State) {
	p := req.peer
	r.nextID++
	req.msg.ID = r.nextID
	req.sent = time.Now()
	r.inflight[req.msg.ID] = req
	p.inflight++
	if req.msg.Upgrade != nil && !req.forkProof && req.msg.Fork == st.Fork {
		u := r.addUpgradeLocked(st)
		u.req = req
		req.isUpgrade = true
	}
	if b := req.msg.Block; b != nil && req.msg.Fork == st.Fork {
		limit := ^uint64(0)
		if req.msg.Upgrade == nil && !r.fullNodes[b.Index] {
			limit = r.promisedDepthLocked(b.Index, max(st.Length, b.Index+1))
		}
		if n, err := r.core.MissingNodes(b.Index, limit); err == nil {
			b.Nodes = n
			req.short = n == limit // stopped at a promised node
			r.promiseLocked(req, b.Index, n)
		}
	}
	p.mRequest.Send(&req.msg)
}

// A block request asks for the tree nodes of the block's proof that the
// reader is missing, counted from the leaf up (the request's nodes); in
// a pipelined download most of them are missing only because the answers
// carrying them are in flight, so every proof would carry the same
// uncles again. The replicator counts on those answers instead: a request
// asks for the nodes up to the first one that a request in flight
// promised, and the apply goroutine verifies the block against that node
// once the answer that gives it is applied (merkle.Tree.VerifyLeafKnown,
// answers being applied in order). Proofs shrink from about log2(window)
// nodes to one on average. Should the promise fail (its request failed,
// or answers came out of order), the block's verification fails without
// blaming the peer, and the block is asked for again with every missing
// node (fullNodes).

// promisedDepthLocked returns the depth of the first ancestor of block
// index (the leaf included) that a request in flight promised, or
// 2^64-1 if none did, in a tree of length blocks: a request for the
// block needs at most that many nodes.
func (r *Replicator) promisedDepthLocked(index, length uint64) uint64 {
	if len(r.promised) == 0 {
		return ^uint64(0)
	}
	for d := range uint64(bits.Len64(length)) + 1 {
		if r.promised[flattree.Index(d, index>>d)] > 0 {
			return d
		}
	}
	return ^uint64(0)
}

// promiseLocked records the nodes the answer to req, for block index with
// nodes nodes, gives: the block's ancestors up to depth nodes and their
// siblings below it. detachLocked takes them back.
func (r *Replicator) promiseLocked(req *request, index, nodes uint64) {
	if nodes >= 64 {
		return
	}
	req.promised = make([]uint64, 0, 2*nodes+1)
	for d := uint64(0); d <= nodes; d++ {
		a := flattree.Index(d, index>>d)
		req.promised = append(req.promised, a)
		if d < nodes {
			req.promised = append(req.promised, flattree.Sibling(a))
		}
	}
	for _, i := range req.promised {
		r.promised[i]++
	}
}

// requestBlockLocked requests block bw.index from the least loaded peer
// that advertised it, or sends wants to the peers when none did. It
// reports whether a request was sent.
func (r *Replicator) requestBlockLocked(bw *blockWant, st State, ps []*peer) bool {
	idx := bw.index
	var best *peer
	candidates, avoided := 0, 0
	for _, p := range ps {
		if !p.remoteUploading || p.remoteFork != st.Fork || !p.remoteHasLocked(idx) {
			continue
		}
		if !r.canRequestLocked(p, idx, st) {
			continue
		}
		if idx >= st.Length && (p.remoteLength <= idx || !r.shouldUpgradeLocked(p, st)) {
			continue
		}
		candidates++
		if bw.avoid[p] {
			avoided++
			continue
		}
		if p.load() >= r.window {
			continue
		}
		if best == nil || p.load() < best.load() {
			best = p
		}
	}
	if best == nil {
		if candidates > 0 && candidates == avoided {
			bw.avoid = nil // every peer that has it failed once: try them again
		}
		if candidates == 0 && (idx >= st.Length || !r.core.HasBlock(idx)) {
			for _, p := range ps {
				p.maybeWantLocked(idx)
			}
		}
		return false
	}
	req := r.makeRequestLocked(best, st, idx >= st.Length)
	req.msg.Block = &wire.RequestBlock{Index: idx}
	req.isBlock = true
	req.blockIdx = idx
	bw.req = req
	r.sendRequestLocked(req, st)
	return true
}

// maybeWantLocked asks the remote which blocks of idx's batch it has (JS
// Peer._maybeWant).
func (p *peer) maybeWantLocked(idx uint64) {
	if idx < p.remoteContiguousLocked() {
		return
	}
	batch := idx / wantBatch
	if p.wantsSent[batch] || len(p.wantsSent) >= maxLocalWants {
		return
	}
	p.wantsSent[batch] = true
	p.mWant.Send(&wire.Want{Start: batch * wantBatch, Length: wantBatch})
}

// scheduleDownloadLocked requests missing blocks of d and reports whether
// d is finished.
func (r *Replicator) scheduleDownloadLocked(d *Download, st State, ps []*peer) bool {
	if d.finished {
		return true
	}
	if st.Contiguous > d.cursor {
		d.cursor = min(st.Contiguous, d.end)
	}
	for d.cursor < d.end && d.cursor < st.Length && r.core.HasBlock(d.cursor) {
		d.cursor++
	}
	if d.cursor >= d.end {
		d.finishLocked(nil)
		return true
	}
	capacity := 0
	for _, p := range ps {
		if r.hasCapacityLocked(p) {
			capacity += max(0, r.window-p.load())
		}
	}
	for i, scanned := d.cursor, 0; i < d.end && capacity > 0 && scanned < maxScan; i, scanned = i+1, scanned+1 {
		if i < st.Length && r.core.HasBlock(i) {
			continue
		}
		if bw := r.blocks[i]; bw != nil && bw.req != nil {
			continue
		}
		if i >= st.Length && r.upgrade != nil && r.upgrade.req != nil {
			break // wait for the upgrade in flight
		}
		if !anyPeerHasLocked(ps, i) {
			for _, p := range ps {
				p.maybeWantLocked(i)
			}
			// Jump to the next block a peer advertised.
			next, ok := nextRemoteLocked(ps, i)
			if !ok || next >= d.end {
				break
			}
			i = next - 1
			continue
		}
		bw := r.blockLocked(i)
		if r.requestBlockLocked(bw, st, ps) {
			capacity--
			if i >= st.Length {
				break // one upgrade at a time
			}
		} else {
			r.gcBlockLocked(bw)
		}
	}
	return false
}

func anyPeerHasLocked(ps []*peer, i uint64) bool {
	for _, p := range ps {
		if p.remoteHasLocked(i) {
			return true
		}
	}
	return false
}

// nextRemoteLocked returns the first block at or after i that a peer
// advertised.
func nextRemoteLocked(ps []*peer, i uint64) (uint64, bool) {
	var best uint64
	found := false
	for _, p := range ps {
		n := i
		if i >= p.remoteContig {
			var ok bool
			if n, ok = p.remoteBits.FirstSet(i); !ok {
				continue
			}
		}
		if !found || n < best {
			best, found = n, true
		}
	}
	return best, found
}

// roundtripLocked takes req out of flight when its answer arrives; the
// block or update it serves stays attached until detachLocked.
func (r *Replicator) roundtripLocked(req *request) bool {
	if _, ok := r.inflight[req.msg.ID]; !ok {
		return false
	}
	delete(r.inflight, req.msg.ID)
	req.peer.inflight--
	return true
}

// detachLocked unlinks req from what it was for.
func (r *Replicator) detachLocked(req *request) {
	for _, i := range req.promised {
		if r.promised[i]--; r.promised[i] <= 0 {
			delete(r.promised, i)
		}
	}
	req.promised = nil
	if req.isBlock {
		if bw := r.blocks[req.blockIdx]; bw != nil && bw.req == req {
			bw.req = nil
			r.gcBlockLocked(bw)
		}
	}
	if u := r.upgrade; u != nil && u.req == req {
		u.req = nil
	}
	if r.manifestRq == req {
		r.manifestRq = nil
	}
	if rg := r.reorg; rg != nil && rg.req == req {
		rg.req = nil
		if rg.r == nil { // the fork proof failed: start over later
			r.reorg = nil
		}
	}
}

// clearRequestLocked forgets a request in flight without an answer.
func (r *Replicator) clearRequestLocked(req *request) {
	if r.roundtripLocked(req) {
		r.detachLocked(req)
	}
}

// cancelRequestLocked withdraws a request in flight (JS _cancelRequest).
func (r *Replicator) cancelRequestLocked(req *request) {
	if !r.roundtripLocked(req) {
		return
	}
	r.detachLocked(req)
	if p := req.peer; p.opened && !p.removed {
		p.mCancel.Send(&wire.Cancel{Request: req.msg.ID})
	}
}

// timeoutsLocked cancels the requests older than RequestTimeout; their
// blocks go to other peers, and a peer that keeps timing out is dropped.
func (r *Replicator) timeoutsLocked(now time.Time) {
	if r.closed {
		return
	}
	expired := false
	for _, req := range r.inflight {
		if now.Sub(req.sent) < r.opts.RequestTimeout {
			continue
		}
		expired = true
		p := req.peer
		if req.isBlock {
			if bw := r.blocks[req.blockIdx]; bw != nil {
				if bw.avoid == nil {
					bw.avoid = make(map[*peer]bool)
				}
				bw.avoid[p] = true
			}
		}
		r.cancelRequestLocked(req)
		p.timeouts++
		if p.timeouts >= r.opts.MaxTimeouts && !p.removed {
			r.dropPeerLocked(p, errors.New("requests timed out"))
		}
	}
	if expired {
		r.updateAllLocked()
	}
}

// onNoData handles a request the remote cannot answer (JS onnodata and
// _onnodata).
func (p *peer) onNoData(m *wire.NoData) error {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if !p.activeOrPausedLocked() {
		return nil
	}
	req := r.inflight[m.Request]
	if req == nil || req.peer != p {
		r.updateAllLocked()
		return nil
	}
	r.clearRequestLocked(req)
	p.timeouts = 0
	switch m.Reason {
	case wire.ReasonNotAvailable:
		p.notAvailable++
		if p.notAvailable >= maxBackoffs {
			p.paused = true
		}
	case wire.ReasonInvalidRequest:
		p.backoffs++
		if p.backoffs >= maxBackoffs {
			p.paused = true
		}
	}
	if req.isBlock {
		p.unhaveLocked(req.blockIdx)
		if bw := r.blocks[req.blockIdx]; bw != nil {
			if bw.avoid == nil {
				bw.avoid = make(map[*peer]bool)
			}
			bw.avoid[p] = true
		}
	}
	r.updateAllLocked()
	return nil
}

// unhaveLocked records that the remote lacks block idx.
func (p *peer) unhaveLocked(idx uint64) {
	if idx < p.remoteContig {
		if p.remoteContig-idx <= maxRangeBits {
			p.remoteBits.SetRange(idx+1, p.remoteContig, true)
		}
		p.remoteContig = idx
	}
	p.remoteBits.Set(idx, false)
}

// isBlame reports whether an Apply or Reorg error means the peer sent
// invalid data.
func isBlame(err error) bool {
	return errors.Is(err, merkle.ErrBadProof) || errors.Is(err, merkle.ErrBadSignature) ||
		errors.Is(err, ErrInvalidData)
}

// checkDataLocked checks that d answers req (JS _matchingRequest) and is
// within the size limits. A mismatch is not blamed (JS ignores it); an
// oversized message is.
func (r *Replicator) checkDataLocked(req *request, d *wire.Data) (match bool, err error) {
	if b := d.Block; b != nil {
		if len(b.Value) > r.opts.MaxBlockSize {
			return false, fmt.Errorf("%w: block of %d bytes", ErrInvalidData, len(b.Value))
		}
		if len(b.Nodes) > maxProofNodes {
			return false, fmt.Errorf("%w: %d block proof nodes", ErrInvalidData, len(b.Nodes))
		}
	}
	if h := d.Hash; h != nil && len(h.Nodes) > maxProofNodes {
		return false, fmt.Errorf("%w: %d hash proof nodes", ErrInvalidData, len(h.Nodes))
	}
	if s := d.Seek; s != nil && len(s.Nodes) > maxProofNodes {
		return false, fmt.Errorf("%w: %d seek proof nodes", ErrInvalidData, len(s.Nodes))
	}
	if u := d.Upgrade; u != nil && (len(u.Nodes) > maxProofNodes || len(u.AdditionalNodes) > maxProofNodes) {
		return false, fmt.Errorf("%w: %d+%d upgrade proof nodes", ErrInvalidData, len(u.Nodes), len(u.AdditionalNodes))
	}
	if req == nil {
		return true, nil // pushed, with AllowPush
	}
	m := &req.msg
	switch {
	case d.Block != nil && (m.Block == nil || m.Block.Index != d.Block.Index),
		d.Hash != nil && (m.Hash == nil || m.Hash.Index != d.Hash.Index),
		d.Seek != nil && (m.Seek == nil || m.Seek.Bytes != d.Seek.Bytes),
		d.Upgrade != nil && m.Upgrade == nil,
		m.Fork != d.Fork:
		return false, nil
	}
	return true, nil
}

// onData verifies and stores data from the remote (JS Peer.ondata,
// _handleData and Replicator._ondata).
func (p *peer) onData(d *wire.Data) error {
	r := p.r
	r.mu.Lock()
	if !p.activeOrPausedLocked() {
		r.mu.Unlock()
		return nil
	}
	var req *request
	if d.Request != 0 {
		if x := r.inflight[d.Request]; x != nil && x.peer == p {
			req = x
		}
	}
	if req == nil && (d.Request != 0 || !r.opts.AllowPush) {
		r.mu.Unlock() // stale (cancelled, timed out) or unsolicited
		return nil
	}
	match, err := r.checkDataLocked(req, d)
	if req != nil {
		r.roundtripLocked(req)
		p.timeouts = 0
	}
	if err != nil || !match {
		if req != nil {
			r.detachLocked(req)
		}
		if err == nil {
			// Not an answer to what we asked: JS ignores it, but no honest
			// peer sends it, so it counts as invalid data here.
			err = fmt.Errorf("%w: data does not match request %d", ErrInvalidData, d.Request)
		}
		p.invalidData++
		r.dropPeerLocked(p, err)
		r.updateAllLocked()
		r.mu.Unlock()
		return nil
	}
	if d.Block != nil {
		r.largestBlock = max(r.largestBlock, len(d.Block.Value))
	}
	st := r.core.State()
	reorg := req != nil && (req.forkProof || req.reorgHash)
	if req != nil && d.Fork > st.Fork && d.Upgrade != nil && d.Upgrade.Start == 0 {
		reorg = true // an upgrade answered from a higher fork: a fork proof
		req.forkProof = true
	}
	if req != nil {
		p.applying++
	}
	from := p.infoLocked()
	r.mu.Unlock()
	// Apply in the replicator's apply goroutine, so that this reader goes
	// on decoding while the core verifies and stores, and data arriving
	// meanwhile is stored in one write.
	ownData(d, !reorg)
	r.queue.push(queuedData{p: p, req: req, d: d, from: from, reorg: reorg})
	return nil
}

// ownData copies what d aliases of the frame it was decoded from (data
// messages are transient: the mux reuses the frame), for d to wait in the
// apply queue. With pooled, the block value goes into a buffer from
// bufpool, which applyRun gives back once the block is stored; the data of
// a reorg, which may be held across messages, is copied plainly.
func ownData(d *wire.Data, pooled bool) {
	if b := d.Block; b != nil {
		if pooled {
			b.Value = append(bufpool.Get(len(b.Value)), b.Value...)
		} else {
			b.Value = bytes.Clone(b.Value)
		}
	}
	if u := d.Upgrade; u != nil {
		u.Signature = bytes.Clone(u.Signature)
	}
	if m := d.Manifest; m != nil {
		m.UserData = bytes.Clone(m.UserData)
	}
}

// onApplyErrorLocked handles data Apply refused.
func (r *Replicator) onApplyErrorLocked(p *peer, req *request, err error) {
	switch {
	case errors.Is(err, merkle.ErrForkMismatch):
		// Stale: the remote or we changed forks meanwhile.
	case req != nil && req.short && req.isBlock && errors.Is(err, merkle.ErrBadProof):
		// A short proof whose promised node did not come (or came late):
		// ours to fix, not the peer's. Ask again with every node.
		if len(r.fullNodes) >= maxFullNodes {
			clear(r.fullNodes)
		}
		r.fullNodes[req.blockIdx] = true
	case isBlame(err):
		p.invalidData++
		if req != nil && req.isBlock {
			if bw := r.blocks[req.blockIdx]; bw != nil {
				if bw.avoid == nil {
					bw.avoid = make(map[*peer]bool)
				}
				bw.avoid[p] = true
			}
		}
		r.dropPeerLocked(p, err)
	default:
		// A local failure (storage): stop asking this peer, as JS does
		// on WRITE_FAILED, without blaming it.
		r.log.Warn("replicator: storing data failed", "err", err)
		p.paused = true
	}
}

// announceAppliedLocked announces what Apply changed and wakes the
// waiters. The caller corks the peers and then schedules requests
// (updateAllLocked).
func (r *Replicator) announceAppliedLocked(a Applied, d *wire.Data) {
	st := a.State
	if a.Upgraded {
		for _, p := range r.peers {
			p.signalUpgradeLocked(st)
		}
	}
	if a.Block {
		for _, p := range r.peers {
			p.broadcastRangeLocked(st, a.Index, 1, false)
		}
	}
	if d.Block != nil {
		delete(r.fullNodes, d.Block.Index)
		if bw := r.blocks[d.Block.Index]; bw != nil && r.core.HasBlock(d.Block.Index) {
			r.resolveBlockLocked(bw, nil)
		}
	}
	r.resolveUpgradeLocked(st)
}

// updateReorgLocked drives the reorg: a fork proof request to a peer on a
// higher fork, then hash requests until the reorg is finished (JS
// _updateFork, _requestForkProof, _requestForkRange).
func (r *Replicator) updateReorgLocked(st State, ps []*peer) {
	rg := r.reorg
	if rg == nil {
		for _, p := range ps {
			if p.remoteFork > st.Fork && p.remoteLength > 0 && r.hasCapacityLocked(p) {
				req := &request{peer: p, forkProof: true, msg: wire.Request{
					Fork:     p.remoteFork,
					Upgrade:  &wire.RequestUpgrade{Start: 0, Length: p.remoteLength},
					Manifest: !st.HasManifest,
				}}
				r.reorg = &reorgState{fork: p.remoteFork, peer: p, req: req}
				r.sendRequestLocked(req, st)
				return
			}
		}
		return
	}
	if rg.r == nil || rg.req != nil {
		return
	}
	if rg.fork <= st.Fork {
		r.reorg = nil
		return
	}
	start, end, nodes, ok := rg.r.Want()
	p := rg.peer
	if !ok || !r.hasCapacityLocked(p) || p.remoteFork != rg.fork {
		return
	}
	end = min(end, p.remoteLength)
	for i := start; i < end && i-start < maxScan; i++ {
		if !p.remoteHasLocked(i) {
			continue
		}
		req := &request{peer: p, reorgHash: true, msg: wire.Request{
			Fork: p.remoteFork,
			Hash: &wire.RequestHash{Index: 2 * i, Nodes: nodes},
		}}
		rg.req = req
		r.sendRequestLocked(req, st)
		return
	}
	if start < end {
		p.maybeWantLocked(start)
	}
}

// onReorgData handles the answer to a fork proof or reorg hash request.
// It runs without r.mu; it holds applyMu while it uses the core.
func (p *peer) onReorgData(req *request, d *wire.Data) {
	r := p.r
	r.applyMu.Lock()
	defer r.applyMu.Unlock()

	// rg.req stays set until detachLocked below, so that nobody uses the
	// reorg (updateReorgLocked asks it what it wants) while it updates.
	r.mu.Lock()
	rg := r.reorg
	if rg == nil || rg.req != req {
		rg = nil
	}
	r.mu.Unlock()

	var (
		ro       Reorg
		finished bool
		err      error
	)
	switch {
	case req.forkProof:
		ro, err = r.core.Reorg(d)
		if err == nil {
			_, _, _, ok := ro.Want()
			finished = !ok
		}
	case rg != nil && rg.r != nil:
		ro = rg.r
		finished, err = ro.Update(d)
	default:
		return
	}

	var a Applied
	if err == nil && finished {
		a, err = ro.Commit()
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.detachLocked(req)
	if r.closed {
		return
	}
	if err != nil {
		if r.reorg != nil && r.reorg.peer == p {
			r.reorg = nil
		}
		if isBlame(err) {
			p.invalidData++
			r.dropPeerLocked(p, err)
		} else if !errors.Is(err, merkle.ErrConflict) && !errors.Is(err, merkle.ErrForkMismatch) {
			r.log.Warn("replicator: reorg failed", "err", err)
			p.paused = true
		}
		r.updateAllLocked()
		return
	}
	if !finished {
		r.reorg = &reorgState{fork: ro.Fork(), peer: p, r: ro}
		r.updateAllLocked()
		return
	}
	r.reorg = nil
	r.onReorgedLocked(a)
}

// onReorgedLocked announces a committed reorg.
func (r *Replicator) onReorgedLocked(a Applied) {
	st := a.State
	r.corkLocked()
	defer r.uncorkLocked()
	for _, p := range r.peers {
		p.fullyDownloadedSignaled = min(p.fullyDownloadedSignaled, a.Ancestors)
		if a.Prev.Length > a.Ancestors {
			p.broadcastRangeLocked(st, a.Ancestors, a.Prev.Length-a.Ancestors, true)
		}
		p.signalUpgradeLocked(st)
	}
	for _, d := range r.downloads {
		d.cursor = max(d.start, min(d.cursor, a.Ancestors))
	}
	r.resolveLocalLocked(st)
	r.updateAllLocked()
}
