package replicator

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/protomux"
)

// ErrInvalidCapability is the error a mux is destroyed with when the
// remote's capability for a core is wrong (JS INVALID_CAPABILITY).
var ErrInvalidCapability = errors.New("replicator: remote sent an invalid replication capability")

// wireCodec adapts a wire message type to cenc.Codec for protomux.
type wireCodec[T any, P interface {
	*T
	wire.Codec
}] struct{}

func (wireCodec[T, P]) Len(v P) int                 { return v.Len() }
func (wireCodec[T, P]) Append(b []byte, v P) []byte { return v.Append(b) }
func (wireCodec[T, P]) Decode(d *cenc.Decoder) P    { v := P(new(T)); v.Decode(d); return v }
func codec[T any, P interface {
	*T
	wire.Codec
}]() cenc.Codec[P] {
	return wireCodec[T, P]{}
}

// peer is one replication channel. Fields below the comment are guarded by
// r.mu.
type peer struct {
	r           *Replicator
	mux         *protomux.Mux
	ch          *protomux.Channel
	isInitiator bool
	hh          [64]byte
	ctx         context.Context // ends when the peer is removed
	cancel      context.CancelFunc

	mSync     *protomux.Message[*wire.Sync]
	mRequest  *protomux.Message[*wire.Request]
	mCancel   *protomux.Message[*wire.Cancel]
	mData     *protomux.Message[*wire.Data]
	mNoData   *protomux.Message[*wire.NoData]
	mWant     *protomux.Message[*wire.Want]
	mUnwant   *protomux.Message[*wire.Unwant]
	mBitfield *protomux.Message[*wire.Bitfield]
	mRange    *protomux.Message[*wire.Range]
	mExt      *protomux.Message[*wire.Extension]

	// Guarded by r.mu.
	opened, removed, paused bool
	remoteSeeks             bool
	remoteSynced            bool
	remoteFork              uint64
	remoteLength            uint64
	remoteCanUpgrade        bool
	remoteUploading         bool
	remoteDownloading       bool
	remoteHasManifest       bool
	remoteAllowPush         bool
	remoteContig            uint64 // JS _remoteContiguousLength
	remoteBits              *bitfield.Bitfield
	canUpgrade              bool // our sync.canUpgrade for this peer
	lastUpgradableLength    uint64
	lastUpgradableFork      uint64
	lengthAcked             uint64 // what the remote believes our length is
	inflight                int
	applying                int             // answers received and queued for the apply goroutine
	wantsSent               map[uint64]bool // want batches sent
	remoteWants             remoteWants
	fullyDownloadedSignaled uint64
	invalidData             int
	invalidRequests         int
	backoffs                int
	notAvailable            int
	timeouts                int // consecutive
	lastExtSent             string
	lastExtRecv             string

	// Requests to answer, in order, and the ones not cancelled by id.
	remoteRequests map[uint64]*wire.Request
	queue          []*wire.Request
	serveWake      chan struct{} // capacity 1
}

// Attach replicates the core over mux, whose stream has the given Noise
// handshake hash and initiator role (the secretstream's, used for the
// capability). It opens the core's channel, which becomes a peer once the
// remote opens it too, and registers with mux.Pair so that a later open
// from the remote (after a close, or when the remote opened first and a
// store's wildcard Pair function calls Attach) creates the channel again.
// Attach does not block and may be called from a protomux Pair function.
// Attaching a mux twice is a no-op. It fails with ErrClosed after Close.
func (r *Replicator) Attach(mux *protomux.Mux, handshakeHash [64]byte, isInitiator bool) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if r.muxes[mux] {
		r.mu.Unlock()
		return nil
	}
	r.muxes[mux] = true
	r.wg.Add(1)
	go func() { // forgets the mux when it ends
		defer r.wg.Done()
		select {
		case <-mux.Done():
		case <-r.ctx.Done():
		}
		mux.Unpair(Protocol, r.dk[:])
		r.mu.Lock()
		delete(r.muxes, mux)
		r.mu.Unlock()
	}()
	r.mu.Unlock()
	mux.Pair(Protocol, r.dk[:], func([]byte) {
		if err := r.openChannel(mux, handshakeHash, isInitiator); err != nil {
			r.log.Debug("replicator: cannot open channel", "err", err)
		}
	})
	err := r.openChannel(mux, handshakeHash, isInitiator)
	if errors.Is(err, protomux.ErrExists) {
		return nil
	}
	return err
}

// openChannel creates and opens the core's channel on mux, unless one is
// open already (JS Replicator._makePeer).
func (r *Replicator) openChannel(mux *protomux.Mux, handshakeHash [64]byte, isInitiator bool) error {
	if mux.Opened(Protocol, r.dk[:]) {
		return nil
	}
	ctx, cancel := context.WithCancel(r.ctx)
	p := &peer{
		r:                 r,
		mux:               mux,
		isInitiator:       isInitiator,
		hh:                handshakeHash,
		ctx:               ctx,
		cancel:            cancel,
		remoteUploading:   true,
		remoteDownloading: true,
		canUpgrade:        true,
		remoteBits:        bitfield.New(),
		wantsSent:         make(map[uint64]bool),
		remoteRequests:    make(map[uint64]*wire.Request),
		serveWake:         make(chan struct{}, 1),
	}
	ch, err := mux.CreateChannel(protomux.ChannelOptions{
		Protocol: Protocol,
		ID:       r.dk[:],
		Aliases:  []string{Alias},
		OnOpen:   p.onOpen,
		OnClose:  p.onClose,
	})
	if err != nil {
		cancel()
		return err
	}
	p.ch = ch
	p.mSync = protomux.AddMessage(ch, codec[wire.Sync](), p.onSync)
	p.mRequest = protomux.AddMessage(ch, codec[wire.Request](), p.onRequest)
	p.mCancel = protomux.AddMessage(ch, codec[wire.Cancel](), p.onCancel)
	p.mData = protomux.AddTransientMessage(ch, codec[wire.Data](), p.onData)
	p.mNoData = protomux.AddMessage(ch, codec[wire.NoData](), p.onNoData)
	p.mWant = protomux.AddMessage(ch, codec[wire.Want](), p.onWant)
	p.mUnwant = protomux.AddMessage(ch, codec[wire.Unwant](), p.onUnwant)
	p.mBitfield = protomux.AddMessage(ch, codec[wire.Bitfield](), p.onBitfield)
	p.mRange = protomux.AddMessage(ch, codec[wire.Range](), p.onRange)
	p.mExt = protomux.AddMessage(ch, codec[wire.Extension](), p.onExtension)

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		cancel()
		return errors.Join(ErrClosed, ch.Close())
	}
	r.pending++
	r.all[p] = true
	r.wg.Add(2)
	go p.serve()
	go func() { // closes the channel once the peer is removed
		defer r.wg.Done()
		select {
		case <-ctx.Done():
			ch.Close()
		case <-ch.Done():
		}
	}()
	r.mu.Unlock()

	hs := wire.Handshake{Seeks: true, Capability: r.core.Capability(isInitiator, handshakeHash)}
	if err := ch.Open(wire.Encode(&hs)); err != nil {
		r.mu.Lock()
		r.removePeerLocked(p)
		r.mu.Unlock()
		return err
	}
	return nil
}

// removePeerLocked forgets p: its requests go back to the scheduler and
// its serve goroutine stops.
func (r *Replicator) removePeerLocked(p *peer) {
	if p.removed {
		return
	}
	p.removed = true
	delete(r.all, p)
	if !p.opened {
		r.pending--
	}
	p.cancel()
	for i, x := range r.peers {
		if x == p {
			r.peers = append(r.peers[:i], r.peers[i+1:]...)
			break
		}
	}
	for _, req := range r.inflight {
		if req.peer == p {
			r.clearRequestLocked(req)
		}
	}
	p.remoteRequests = nil
	p.queue = nil
	if r.reorg != nil && r.reorg.peer == p {
		r.reorg = nil
	}
	if f := r.opts.OnPeerRemove; f != nil && p.opened {
		f(p.infoLocked())
	}
}

// dropPeerLocked removes a misbehaving peer and closes its channel.
func (r *Replicator) dropPeerLocked(p *peer, why error) {
	r.log.Debug("replicator: dropping peer", "err", why)
	r.removePeerLocked(p) // its watcher closes the channel
}

// load is the peer's requests in flight plus its answers still being
// applied: what the window (Options.MaxInflight) bounds, so that answers
// queue no deeper than the window.
func (p *peer) load() int { return p.inflight + p.applying }

func (p *peer) activeLocked() bool { return p.opened && !p.removed && !p.paused }

func (p *peer) infoLocked() PeerInfo {
	return PeerInfo{
		RemoteFork:        p.remoteFork,
		RemoteLength:      p.remoteLength,
		RemoteContiguous:  p.remoteContiguousLocked(),
		RemoteCanUpgrade:  p.remoteCanUpgrade,
		RemoteUploading:   p.remoteUploading,
		RemoteDownloading: p.remoteDownloading,
		RemoteHasManifest: p.remoteHasManifest,
		Inflight:          p.inflight,
		InvalidData:       p.invalidData,
		InvalidRequests:   p.invalidRequests,
		Mux:               p.mux,
	}
}

// remoteContiguousLocked is the remote's contiguous length as far as we
// know (JS remoteContiguousLength).
func (p *peer) remoteContiguousLocked() uint64 {
	if i, ok := p.remoteBits.FirstUnset(p.remoteContig); ok {
		return i
	}
	return p.remoteContig
}

// remoteHasLocked reports whether the remote advertised block index.
func (p *peer) remoteHasLocked(index uint64) bool {
	return index < p.remoteContig || p.remoteBits.Get(index)
}

// onOpen checks the remote's capability and starts the session: sync,
// then the range of our contiguous prefix, corked (JS Peer.onopen).
func (p *peer) onOpen(_ *protomux.Channel, handshake []byte) error {
	var hs wire.Handshake
	if err := wire.Unmarshal(handshake, &hs); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCapability, err)
	}
	r := p.r
	want := r.core.Capability(!p.isInitiator, p.hh)
	if subtle.ConstantTimeCompare(want[:], hs.Capability[:]) != 1 {
		return ErrInvalidCapability
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.removed || p.opened {
		return nil
	}
	p.opened = true
	p.remoteSeeks = hs.Seeks
	r.pending--
	st := r.core.State()

	p.mux.Cork()
	defer p.mux.Uncork()
	p.sendSyncLocked(st)
	if contig := min(st.Length, st.Contiguous); contig > 0 {
		p.broadcastRangeLocked(st, 0, contig, false)
	}
	r.peers = append(r.peers, p)
	r.updateAllLocked()
	if f := r.opts.OnPeerAdd; f != nil {
		f(p.infoLocked())
	}
	return nil
}

// onClose forgets the peer (JS Peer.onclose).
func (p *peer) onClose(_ *protomux.Channel, remote bool) {
	r := p.r
	r.log.Debug("replicator: channel closed", "remote", remote, "opened", p.opened)
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.removed {
		return
	}
	r.removePeerLocked(p)
	if !r.closed {
		r.updateAllLocked()
	}
}

// sendSyncLocked sends our state (JS Peer.sendSync).
func (p *peer) sendSyncLocked(st State) {
	if st.Fork != p.remoteFork {
		p.canUpgrade = false
	}
	var remoteLength uint64
	if st.Fork == p.remoteFork {
		remoteLength = p.remoteLength
	}
	p.mSync.Send(&wire.Sync{
		Fork:         st.Fork,
		Length:       st.Length,
		RemoteLength: remoteLength,
		CanUpgrade:   p.canUpgrade,
		Uploading:    true,
		Downloading:  true,
		HasManifest:  st.HasManifest && !st.Compat,
		AllowPush:    p.r.opts.AllowPush,
	})
}

// canUpgradeToLocked reports whether we can prove to the remote an upgrade
// from its (length, fork) to our tree (JS Peer._canUpgrade).
func (p *peer) canUpgradeToLocked(st State, remoteLength, remoteFork uint64) bool {
	if remoteFork != st.Fork {
		return false
	}
	if remoteLength == 0 {
		return true
	}
	if remoteLength >= st.Length {
		return false
	}
	return p.r.core.Upgradeable(remoteLength)
}

// signalUpgradeLocked tells the remote about a change of our length (JS
// Peer.signalUpgrade).
func (p *peer) signalUpgradeLocked(st State) {
	if !p.opened || p.removed {
		return
	}
	if st.Fork == p.remoteFork && st.Length > p.remoteLength && !p.canUpgrade {
		cu := p.canUpgradeToLocked(st, p.remoteLength, p.remoteFork)
		if cu == p.canUpgrade {
			return
		}
		p.canUpgrade = cu
		if cu {
			p.lastUpgradableLength, p.lastUpgradableFork = p.remoteLength, p.remoteFork
		}
	}
	p.sendSyncLocked(st)
}

// broadcastRangeLocked announces that we now have (or dropped) blocks
// [start, start+length), skipping what the remote does not care about or
// knows already (JS Peer.broadcastRange).
func (p *peer) broadcastRangeLocked(st State, start, length uint64, drop bool) {
	if !p.activeLocked() || length == 0 {
		return
	}
	fullyContig := st.Contiguous >= st.Length
	if start+lastBlocks < st.Length && !drop && !fullyContig {
		if !p.remoteWants.hasRange(start, length) {
			return
		}
	}
	force := false
	if fullyContig && !drop {
		start, length = 0, st.Length
		if p.fullyDownloadedSignaled < length {
			p.fullyDownloadedSignaled = length
			force = true
		}
	}
	if !force && !drop {
		if p.remoteContig >= start+length {
			return
		}
		if length == 1 {
			if p.remoteBits.Get(start) {
				return
			}
		} else if i, ok := p.remoteBits.FirstUnset(start); !ok || i >= start+length {
			return
		}
	}
	p.mRange.Send(&wire.Range{Drop: drop, Start: start, Length: length})
}

// onSync handles the remote's state (JS Peer.onsync).
func (p *peer) onSync(m *wire.Sync) error {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if !p.activeOrPausedLocked() {
		return nil
	}
	st := r.core.State()
	lengthChanged := m.Length != p.remoteLength
	sameFork := m.Fork == st.Fork

	p.remoteSynced = true
	p.remoteFork = m.Fork
	p.remoteLength = m.Length
	p.remoteCanUpgrade = m.CanUpgrade
	p.remoteUploading = m.Uploading
	p.remoteDownloading = m.Downloading
	p.remoteHasManifest = m.HasManifest
	p.remoteAllowPush = m.AllowPush
	p.lengthAcked = 0
	if sameFork {
		p.lengthAcked = m.RemoteLength
	}

	if p.remoteLength > st.Length && p.lengthAcked == st.Length {
		r.addUpgradeLocked(st) // eager upgrade, as JS with eagerUpgrade
	}

	var up bool
	if !lengthChanged || !sameFork {
		up = p.canUpgrade && sameFork
	} else {
		up = p.canUpgradeToLocked(st, m.Length, m.Fork)
	}
	p.canUpgrade = up
	if up {
		p.lastUpgradableLength, p.lastUpgradableFork = m.Length, m.Fork
	}
	if st.Fork == p.remoteFork && st.Length > p.remoteLength {
		p.signalUpgradeLocked(st)
	}
	r.updateAllLocked()
	return nil
}

func (p *peer) activeOrPausedLocked() bool { return p.opened && !p.removed }

// onRequest queues a request for the serve goroutine (JS Peer.onrequest).
func (p *peer) onRequest(m *wire.Request) error {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if !p.activeOrPausedLocked() {
		return nil
	}
	// A request reusing the id of a queued one replaces it.
	p.remoteRequests[m.ID] = m
	p.queue = append(p.queue, m)
	select {
	case p.serveWake <- struct{}{}:
	default:
	}
	return nil
}

// onCancel withdraws a request not answered yet.
func (p *peer) onCancel(m *wire.Cancel) error {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(p.remoteRequests, m.Request)
	return nil
}

// serve answers the remote's requests in order, up to serveBatch at a
// time, waiting for the mux to drain before each batch so that a peer that
// does not read cannot make us queue without bound.
func (p *peer) serve() {
	r := p.r
	defer r.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.serveWake:
		}
		var batch []*wire.Request
		for {
			if err := p.mux.WaitDrained(p.ctx); err != nil {
				return
			}
			r.mu.Lock()
			if p.removed || len(p.queue) == 0 {
				r.mu.Unlock()
				break
			}
			batch = batch[:0]
			for len(p.queue) > 0 && len(batch) < serveBatch {
				m := p.queue[0]
				p.queue[0] = nil
				p.queue = p.queue[1:]
				if p.remoteRequests[m.ID] == m {
					batch = append(batch, m)
				}
			}
			to := p.infoLocked()
			r.mu.Unlock()
			// The answers to the requests queued together go out in
			// protomux batch frames: one secretstream message and one
			// write for several answers. A batch is closed once it holds
			// serveBatchBytes, so that it stays well below the largest
			// secretstream message even when the next answer carries a
			// block of the largest size.
			corked, size := false, 0
			for i, m := range batch {
				if !corked && i+1 < len(batch) {
					p.mux.Cork()
					corked = true
				}
				size += p.answer(m, to)
				batch[i] = nil
				if corked && size >= serveBatchBytes {
					p.mux.Uncork()
					corked, size = false, 0
				}
			}
			if corked {
				p.mux.Uncork()
			}
		}
	}
}

// answer computes and sends the reply to m (JS _handleRequest and
// _fulfillRequest); to is p as it was when the request was taken from the
// queue. It returns the size of the block value it sent, if any.
func (p *peer) answer(m *wire.Request, to PeerInfo) int {
	r := p.r
	d, release, err := r.core.Proof(m, to)
	if release != nil {
		defer release() // after Send has encoded d
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if p.removed || p.remoteRequests[m.ID] != m {
		return 0 // cancelled meanwhile
	}
	delete(p.remoteRequests, m.ID)
	switch {
	case err == nil:
		if m.Manifest {
			d.Manifest = r.core.Manifest()
		}
		d.Request = m.ID
		p.mData.Send(d)
		if d.Block != nil {
			return len(d.Block.Value)
		}
	case errors.Is(err, ErrNotAvailable):
		if m.Manifest {
			if man := r.core.Manifest(); man != nil {
				p.mData.Send(&wire.Data{Request: m.ID, Fork: r.core.State().Fork, Manifest: man})
				return 0
			}
		}
		p.mNoData.Send(&wire.NoData{Request: m.ID, Reason: wire.ReasonNotAvailable})
	default:
		p.invalidRequests++
		p.mNoData.Send(&wire.NoData{Request: m.ID, Reason: wire.ReasonInvalidRequest})
		if p.invalidRequests >= maxInvalidRequests {
			r.dropPeerLocked(p, fmt.Errorf("too many invalid requests: %w", err))
		}
	}
	return 0
}

// onWant answers with range or bitfield messages (JS Replicator._onwant).
func (p *peer) onWant(m *wire.Want) error {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if !p.activeLocked() || !p.remoteWants.add(m.Start, m.Length, m.Any) {
		return nil
	}
	st := r.core.State()
	contig := min(st.Length, st.Contiguous)
	start, length := m.Start, m.Length
	if (start+length < contig && start+length >= start) || st.Length == contig || (m.Any && start < contig) {
		p.mRange.Send(&wire.Range{Start: 0, Length: contig})
		return nil
	}
	if start >= st.Length {
		return nil
	}
	length = min(length, st.Length-start)
	if m.Any {
		for i := start; i < start+length; i++ { // bounded by the core's length
			if r.core.HasBlock(i) {
				p.mRange.Send(&wire.Range{Start: i, Length: 1})
				break
			}
			if i-start >= 1<<16 {
				break
			}
		}
		return nil
	}
	// One bitfield message per segment of 2^21 blocks, as lib/bitfield.js
	// want() yields them; all-zero segments are left out.
	if d := start & 31; d != 0 {
		start -= d
		length += d
	}
	for length > 0 {
		seg := start / bitsPerSegment
		j := start % bitsPerSegment
		end := min(j+length, bitsPerSegment)
		end = (end + 31) &^ 31
		words := r.core.AppendBitfield(nil, start, int((end-j)/32))
		if anyNonZero(words) {
			p.mBitfield.Send(&wire.Bitfield{Start: seg*bitsPerSegment + j, Bitfield: words})
		}
		taken := bitsPerSegment - j
		if length <= taken {
			break
		}
		length -= taken
		start += taken
	}
	return nil
}

func anyNonZero(ws []uint32) bool {
	for _, w := range ws {
		if w != 0 {
			return true
		}
	}
	return false
}

func (p *peer) onUnwant(m *wire.Unwant) error {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	p.remoteWants.remove(m.Start, m.Length, m.Any)
	return nil
}

// onBitfield records which blocks the remote has (JS Peer.onbitfield).
func (p *peer) onBitfield(m *wire.Bitfield) error {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if !p.activeOrPausedLocked() || m.Start&31 != 0 {
		return nil
	}
	if m.Start < p.remoteContig {
		p.remoteContig = m.Start // the bitfield is the truth
	}
	if err := p.remoteBits.InsertWords(m.Start, m.Bitfield); err != nil {
		return nil
	}
	r.updateAllLocked()
	return nil
}

// onRange records blocks the remote gained or dropped (JS Peer.onrange).
func (p *peer) onRange(m *wire.Range) error {
	r := p.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if !p.activeOrPausedLocked() {
		return nil
	}
	start, length := m.Start, m.Length
	end := start + length
	if end < start { // overflow: not a real range
		return nil
	}
	if m.Drop {
		if start < p.remoteContig {
			if end < p.remoteContig {
				p.remoteBits.SetRange(end, p.remoteContig, true)
			}
			p.remoteContig = start
		}
		p.remoteBits.SetRange(start, min(end, start+maxRangeBits), false)
		return nil
	}
	if start <= p.remoteContiguousLocked() {
		// Extends the contiguous prefix (the common case: appends).
		p.remoteContig = max(p.remoteContig, end)
	} else if length == 1 {
		p.remoteBits.Set(start, true)
	} else {
		p.remoteBits.SetRange(start, min(end, start+maxRangeBits), true)
	}
	r.updateAllLocked()
	return nil
}

// onExtension passes an extension message to its handler.
func (p *peer) onExtension(m *wire.Extension) error {
	r := p.r
	r.mu.Lock()
	if !p.activeOrPausedLocked() {
		r.mu.Unlock()
		return nil
	}
	name := m.Name
	if name == "" {
		name = p.lastExtRecv
	}
	p.lastExtRecv = name
	fn := r.extensions[name]
	info := p.infoLocked()
	r.mu.Unlock()
	if fn != nil {
		fn(&info, m.Message)
	}
	return nil
}

func (p *peer) sendExtensionLocked(name string, message []byte) {
	if !p.opened || p.removed {
		return
	}
	wireName := name
	if name == p.lastExtSent {
		wireName = ""
	}
	p.lastExtSent = name
	p.mExt.Send(&wire.Extension{Name: wireName, Message: message})
}
