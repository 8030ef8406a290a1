package replicator

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/protomux"
)

// Protocol is the protomux protocol of hypercore replication channels, and
// Alias the other name JS registers for it.
const (
	Protocol = "hypercore/alpha"
	Alias    = "hypercore"
)

// Limits and constants of lib/replicator.js and lib/wants.js.
const (
	wantBatch          = 1 << 21 // blocks per want (wants.js BATCH in compat mode)
	maxLocalWants      = 512     // wants.js MAX
	maxRemoteWantRange = 8 * 256 * 1024
	minRemoteWantRange = 32
	maxRemoteWants     = 512
	maxRemoteBatches   = 4
	maxRemoteAny       = 16
	bitsPerSegment     = 1 << 21   // one bitfield message per segment
	lastBlocks         = 256       // ranges this close to the end are always announced
	maxPeersUpgrade    = 3         // peers consulted before an update resolves false
	maxBackoffs        = 32        // noData answers before a peer is paused
	maxInvalidRequests = 64        // invalid requests before a peer is dropped
	serveBatch         = 16        // requests taken off the queue at a time
	serveBatchBytes    = 256 << 10 // block bytes after which a batch of answers is sent

	// maxProofNodes bounds each node list of a data message: a proof
	// never needs more than two per tree level (64 levels).
	maxProofNodes = 256
	// maxRangeBits bounds the bits one range message (not starting at the
	// remote's contiguous length) sets in a peer's bitfield, so that a
	// small message cannot make us allocate much.
	maxRangeBits = 1 << 20

	// The default window (Options.MaxInflight): defaultWindow requests,
	// or as many as hold windowBytes of the core's average block, up to
	// maxWindow.
	defaultWindow = 48
	windowBytes   = 3 << 20
	maxWindow     = 512
)

// Options configures a Replicator. A nil *Options means the defaults.
type Options struct {
	// MaxInflight is the number of requests in flight per peer, answers
	// received but not applied yet included. By default it is 48 (JS:
	// min(512, 3*16) on streams that are not UDX), raised for cores of
	// small blocks so that about 3 MiB of blocks are in flight, up to 512
	// requests (JS's largest window): a window of 48 1 KiB blocks leaves a
	// fast link idle waiting for round trips, while 48 64 KiB blocks
	// already fill it.
	MaxInflight int
	// RequestTimeout is how long a request may stay unanswered before it is
	// cancelled and sent to another peer. Default 20 seconds.
	RequestTimeout time.Duration
	// MaxTimeouts is the number of consecutive timeouts after which a peer
	// is dropped. Default 3.
	MaxTimeouts int
	// MaxBlockSize is the largest block value accepted from a peer.
	// Default 16 MiB (a data message must fit in one secretstream
	// message, under 2^24 bytes).
	MaxBlockSize int
	// AllowPush accepts unsolicited data (request id 0) and tells peers so
	// in sync (allowPush). Default false.
	AllowPush bool
	// Logger receives debug logs. Nil discards them.
	Logger *slog.Logger
	// OnPeerAdd, if set, is called when a channel fully opens and becomes
	// a peer (JS 'peer-add'), and OnPeerRemove when that peer is removed
	// (its channel closed, it was dropped, or the replicator closed; JS
	// 'peer-remove'). Each peer is added once and removed at most once,
	// in that order. They are called with the replicator's lock held: they
	// must return quickly and must not call the Replicator.
	OnPeerAdd, OnPeerRemove func(PeerInfo)
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxInflight <= 0 {
		c.MaxInflight = defaultWindow
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 20 * time.Second
	}
	if c.MaxTimeouts <= 0 {
		c.MaxTimeouts = 3
	}
	if c.MaxBlockSize <= 0 {
		c.MaxBlockSize = 16 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Replicator replicates one core with any number of peers. It is safe for
// concurrent use. See the package documentation for its design.
type Replicator struct {
	core Core
	opts Options
	log  *slog.Logger
	dk   [32]byte

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the run goroutine and the peers' serve goroutines

	// applyMu serializes Core.Apply, Core.Reorg and Reorg methods.
	applyMu sync.Mutex
	// queue holds the data waiting for the apply goroutine (applyLoop).
	queue dataQueue

	// mu guards every field below it. See the package documentation for
	// what may be called while holding it.
	mu         sync.Mutex
	closed     bool
	muxes      map[*protomux.Mux]bool // attached muxes
	all        map[*peer]bool         // every attached peer not removed yet
	peers      []*peer                // fully open peers, in the order they opened
	pending    int                    // channels opened locally whose remote has not opened
	nextID     uint64                 // last request id used (ids are never reused)
	inflight   map[uint64]*request
	blocks     map[uint64]*blockWant
	downloads  []*Download
	upgrade    *upgradeWant
	reorg      *reorgState
	manifestRq *request // inflight manifest-only request
	window     int      // requests in flight per peer (setWindowLocked)
	// promised counts, per tree node, the requests in flight whose answer
	// will give it; fullNodes holds blocks to ask for with every missing
	// node, after a short request for them failed (see promiseLocked).
	promised   map[uint64]int
	fullNodes  map[uint64]bool
	autoWindow bool // MaxInflight is the default, raised for small blocks
	// largestBlock is the size of the largest block received, for the
	// window.
	largestBlock int
	extensions   map[string]func(from *PeerInfo, message []byte)

	// nmu guards notes; it is a leaf lock, so the core may notify while
	// holding its own locks.
	nmu   sync.Mutex
	notes []note
	wake  chan struct{} // capacity 1: notes are waiting
}

// note is a local change the core reported.
type note struct {
	kind          noteKind
	start, length uint64
}

type noteKind int

const (
	noteAppend noteKind = iota
	noteTruncate
	noteClear
)

// request is one request in flight to a peer.
type request struct {
	msg  wire.Request
	peer *peer
	sent time.Time

	blockIdx  uint64 // msg.Block.Index when msg.Block != nil
	isBlock   bool
	isUpgrade bool // carries r.upgrade
	forkProof bool // a fork proof for a reorg
	reorgHash bool // a hash request of a reorg

	// promised lists the tree nodes the answer will give (see
	// promiseLocked); short is set when the request asked for fewer nodes
	// than are missing, counting on nodes other requests promised.
	promised []uint64
	short    bool
}

// blockWant is a block someone waits for, or that a download requested.
type blockWant struct {
	index uint64
	refs  int           // WaitBlock callers waiting
	done  chan struct{} // closed when resolved
	err   error         // set before done is closed; nil means stored
	req   *request      // the request in flight for it, if any
	avoid map[*peer]bool
}

// upgradeWant is the pending update: resolved true when the core's length
// or fork moves away from (fork, length), false when no peer can upgrade it.
type upgradeWant struct {
	fork, length uint64
	refs         int
	done         chan struct{}
	result       bool
	err          error
	req          *request
}

// reorgState is a reorg in progress.
type reorgState struct {
	fork uint64
	peer *peer
	r    Reorg    // nil until the fork proof is verified
	req  *request // the fork proof or hash request in flight
}

// New returns a replicator for core and starts its goroutine. Attach it
// to connections with Attach; stop it with Close.
func New(core Core, opts *Options) *Replicator {
	o := opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Replicator{
		core:       core,
		opts:       o,
		log:        o.Logger,
		dk:         core.DiscoveryKey(),
		ctx:        ctx,
		cancel:     cancel,
		all:        make(map[*peer]bool),
		muxes:      make(map[*protomux.Mux]bool),
		inflight:   make(map[uint64]*request),
		blocks:     make(map[uint64]*blockWant),
		extensions: make(map[string]func(*PeerInfo, []byte)),
		wake:       make(chan struct{}, 1),
		autoWindow: opts == nil || opts.MaxInflight <= 0,
		promised:   make(map[uint64]int),
		fullNodes:  make(map[uint64]bool),
		window:     o.MaxInflight,
	}
	r.queue.init()
	r.wg.Add(2)
	go r.run()
	go r.applyLoop()
	return r
}

// DiscoveryKey returns the discovery key of the replicated core, the id of
// its channels.
func (r *Replicator) DiscoveryKey() [32]byte { return r.dk }

// Close closes every channel of the replicator, fails the calls waiting on
// it with ErrClosed and stops its goroutines. It is idempotent. It must not
// be called from a protomux callback.
func (r *Replicator) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.wg.Wait()
		return nil
	}
	r.closed = true
	for p := range r.all {
		r.removePeerLocked(p)
	}
	for _, bw := range r.blocks {
		r.resolveBlockLocked(bw, ErrClosed)
	}
	if u := r.upgrade; u != nil {
		r.upgrade = nil
		u.err = ErrClosed
		close(u.done)
	}
	for _, d := range r.downloads {
		d.finishLocked(ErrClosed)
	}
	r.downloads = nil
	r.mu.Unlock()

	r.cancel()
	r.wg.Wait()
	return nil
}

// run processes the core's notifications and times requests out.
func (r *Replicator) run() {
	defer r.wg.Done()
	tick := r.opts.RequestTimeout / 4
	if tick < 5*time.Millisecond {
		tick = 5 * time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.wake:
			r.processNotes()
		case now := <-t.C:
			r.mu.Lock()
			r.timeoutsLocked(now)
			r.mu.Unlock()
		}
	}
}

// OnAppend tells the replicator that the core appended blocks [start,
// start+length) locally (or otherwise grew its length with them stored).
// It queues the announcement and returns at once; it may be called with
// the core's locks held.
func (r *Replicator) OnAppend(start, length uint64) {
	r.notify(note{kind: noteAppend, start: start, length: length})
}

// OnTruncate tells the replicator that the core truncated itself from
// oldLength to newLength (its fork changed). Like OnAppend it only queues.
func (r *Replicator) OnTruncate(newLength, oldLength uint64) {
	r.notify(note{kind: noteTruncate, start: newLength, length: oldLength - min(newLength, oldLength)})
}

// OnClear tells the replicator that the core dropped the stored blocks
// [start, end) (hypercore clear). Like OnAppend it only queues.
func (r *Replicator) OnClear(start, end uint64) {
	if end <= start {
		return
	}
	r.notify(note{kind: noteClear, start: start, length: end - start})
}

func (r *Replicator) notify(n note) {
	r.nmu.Lock()
	r.notes = append(r.notes, n)
	r.nmu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// processNotes announces the queued local changes to every peer, then
// resolves what they satisfy.
func (r *Replicator) processNotes() {
	r.nmu.Lock()
	notes := r.notes
	r.notes = nil
	r.nmu.Unlock()
	if len(notes) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	st := r.core.State()
	r.corkLocked()
	defer r.uncorkLocked()
	for _, n := range notes {
		for _, p := range r.peers {
			switch n.kind {
			case noteAppend:
				p.signalUpgradeLocked(st)
				p.broadcastRangeLocked(st, n.start, n.length, false)
			case noteTruncate:
				p.fullyDownloadedSignaled = min(p.fullyDownloadedSignaled, n.start)
				p.broadcastRangeLocked(st, n.start, n.length, true)
				p.signalUpgradeLocked(st)
			case noteClear:
				p.broadcastRangeLocked(st, n.start, n.length, true)
			}
		}
	}
	r.resolveLocalLocked(st)
	r.updateAllLocked()
}

// resolveLocalLocked resolves the block waiters whose blocks are stored
// now, and the update waiter if the core moved.
func (r *Replicator) resolveLocalLocked(st State) {
	for _, bw := range r.blocks {
		if bw.index < st.Length && r.core.HasBlock(bw.index) {
			r.resolveBlockLocked(bw, nil)
		}
	}
	r.resolveUpgradeLocked(st)
}

func (r *Replicator) corkLocked() {
	for _, p := range r.peers {
		p.mux.Cork()
	}
}

func (r *Replicator) uncorkLocked() {
	for _, p := range r.peers {
		p.mux.Uncork()
	}
}

// WaitBlock waits until block index is stored locally, requesting it from
// the peers that have it (and asking the others whether they do). It
// returns nil at once if the block is stored; ctx's error if ctx ends
// first; ErrClosed if the replicator closes.
func (r *Replicator) WaitBlock(ctx context.Context, index uint64) error {
	if r.core.HasBlock(index) {
		return nil
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	bw := r.blockLocked(index)
	bw.refs++
	if r.core.HasBlock(index) { // stored while we registered
		r.resolveBlockLocked(bw, nil)
	} else {
		r.updateAllLocked()
	}
	r.mu.Unlock()

	select {
	case <-bw.done:
		return bw.err
	case <-ctx.Done():
		r.mu.Lock()
		bw.refs--
		r.gcBlockLocked(bw)
		r.mu.Unlock()
		select {
		case <-bw.done:
			return bw.err
		default:
		}
		return ctx.Err()
	}
}

// blockLocked returns the want for block index, creating it.
func (r *Replicator) blockLocked(index uint64) *blockWant {
	bw := r.blocks[index]
	if bw == nil {
		bw = &blockWant{index: index, done: make(chan struct{})}
		r.blocks[index] = bw
	}
	return bw
}

// gcBlockLocked forgets a want nobody waits for and nothing requested.
func (r *Replicator) gcBlockLocked(bw *blockWant) {
	if bw.refs <= 0 && bw.req == nil && r.blocks[bw.index] == bw {
		delete(r.blocks, bw.index)
	}
}

// resolveBlockLocked completes a block want with err (nil: stored) and
// cancels its request if one is still in flight.
func (r *Replicator) resolveBlockLocked(bw *blockWant, err error) {
	if r.blocks[bw.index] == bw {
		delete(r.blocks, bw.index)
	}
	if req := bw.req; req != nil {
		bw.req = nil
		if _, ok := r.inflight[req.msg.ID]; ok {
			r.cancelRequestLocked(req)
		}
	}
	select {
	case <-bw.done:
	default:
		bw.err = err
		close(bw.done)
	}
}

// Update waits until the core's length or fork changes thanks to a peer
// (true), or until the peers that can be asked have said they have nothing
// newer (false), as hypercore's update() does. With no peer attached it
// returns false at once.
func (r *Replicator) Update(ctx context.Context) (bool, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false, ErrClosed
	}
	u := r.addUpgradeLocked(r.core.State())
	u.refs++
	r.updateAllLocked()
	r.mu.Unlock()

	select {
	case <-u.done:
		return u.result, u.err
	case <-ctx.Done():
		r.mu.Lock()
		u.refs--
		r.mu.Unlock()
		return false, ctx.Err()
	}
}

// addUpgradeLocked returns the pending update, creating it.
func (r *Replicator) addUpgradeLocked(st State) *upgradeWant {
	if r.upgrade == nil {
		r.upgrade = &upgradeWant{fork: st.Fork, length: st.Length, done: make(chan struct{})}
	}
	return r.upgrade
}

// resolveUpgradeLocked resolves the pending update with true if the core
// moved.
func (r *Replicator) resolveUpgradeLocked(st State) {
	u := r.upgrade
	if u == nil || (st.Length == u.length && st.Fork == u.fork) {
		return
	}
	r.upgrade = nil
	if u.req != nil {
		u.req.isUpgrade = false
	}
	u.result = true
	close(u.done)
}

// checkUpgradeLocked resolves the pending update with false when no peer
// can upgrade the core (JS _checkUpgradeIfAvailable).
func (r *Replicator) checkUpgradeLocked(st State) {
	u := r.upgrade
	if u == nil || u.refs <= 0 {
		return
	}
	if r.pending > 0 && len(r.peers) < maxPeersUpgrade {
		return
	}
	for _, p := range r.peers[:min(len(r.peers), maxPeersUpgrade)] {
		if !p.remoteSynced {
			return
		}
		if st.Length == 0 && p.remoteLength > 0 {
			return
		}
		if p.remoteLength <= u.length || p.remoteFork != u.fork {
			continue
		}
		if p.lengthAcked != st.Length && p.remoteFork == st.Fork {
			return
		}
		if p.remoteCanUpgrade {
			return
		}
	}
	if r.reorg != nil || u.req != nil {
		return
	}
	r.upgrade = nil
	u.result = false
	close(u.done)
}

// Download is a range of blocks being downloaded, made by
// Replicator.Download.
type Download struct {
	r          *Replicator
	start, end uint64
	cursor     uint64 // blocks before it are stored (guarded by r.mu)
	done       chan struct{}
	err        error
	finished   bool
}

// Download starts downloading the blocks [start, end) from the peers that
// have them, keeping a window of requests in flight per peer (see
// Options.MaxInflight). Blocks past the core's length are fetched once an
// upgrade reaches them. Wait for it with Download.Wait; stop it with
// Download.Close.
func (r *Replicator) Download(start, end uint64) (*Download, error) {
	d := &Download{r: r, start: start, end: end, cursor: start, done: make(chan struct{})}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	r.downloads = append(r.downloads, d)
	r.updateAllLocked()
	return d, nil
}

// Done returns a channel closed when the download completes or stops.
func (d *Download) Done() <-chan struct{} { return d.done }

// Wait waits until every block of the range is stored (nil), the download
// is closed (ErrClosed) or ctx ends.
func (d *Download) Wait(ctx context.Context) error {
	select {
	case <-d.done:
		return d.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Progress returns how many blocks from the start of the range on are
// stored without a gap, and the size of the range.
func (d *Download) Progress() (contiguous, total uint64) {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	return d.cursor - d.start, d.end - min(d.start, d.end)
}

// Close stops the download; Wait then returns ErrClosed unless it had
// completed.
func (d *Download) Close() {
	r := d.r
	r.mu.Lock()
	defer r.mu.Unlock()
	d.finishLocked(ErrClosed)
	for i, x := range r.downloads {
		if x == d {
			r.downloads = append(r.downloads[:i], r.downloads[i+1:]...)
			break
		}
	}
}

func (d *Download) finishLocked(err error) {
	if d.finished {
		return
	}
	d.finished = true
	d.err = err
	close(d.done)
}

// PeerInfo describes a peer of the replicator.
type PeerInfo struct {
	// RemoteFork and RemoteLength are the fork and length the peer last
	// announced; RemoteContiguous its announced contiguous length.
	RemoteFork, RemoteLength, RemoteContiguous uint64
	// RemoteCanUpgrade, RemoteUploading, RemoteDownloading,
	// RemoteHasManifest are the flags of its last sync.
	RemoteCanUpgrade, RemoteUploading, RemoteDownloading, RemoteHasManifest bool
	// Inflight is the number of requests in flight to the peer.
	Inflight int
	// InvalidData counts the peer's data that failed verification;
	// InvalidRequests its requests answered with noData INVALID_REQUEST.
	InvalidData, InvalidRequests int
	// Mux is the protomux session of the peer.
	Mux *protomux.Mux
}

// Peers returns the fully open peers.
func (r *Replicator) Peers() []PeerInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]PeerInfo, 0, len(r.peers))
	for _, p := range r.peers {
		out = append(out, p.infoLocked())
	}
	return out
}

// RegisterExtension registers fn for extension messages called name
// (hyperbee uses "hyperbee"); nil removes it. Messages of unregistered
// extensions are ignored, as in JS. fn runs on a mux goroutine, without
// the replicator's lock, and must not block; the message is valid only
// during the call.
func (r *Replicator) RegisterExtension(name string, fn func(from *PeerInfo, message []byte)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fn == nil {
		delete(r.extensions, name)
		return
	}
	r.extensions[name] = fn
}

// SendExtension sends an extension message to every peer (JS
// extension.broadcast).
func (r *Replicator) SendExtension(name string, message []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.peers {
		p.sendExtensionLocked(name, message)
	}
}

// SendExtensionTo sends an extension message to the peer on mux (JS
// extension.send). It reports false when the core has no open peer there.
func (r *Replicator) SendExtensionTo(mux *protomux.Mux, name string, message []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.peers {
		if p.mux == mux {
			p.sendExtensionLocked(name, message)
			return true
		}
	}
	return false
}

// shuffledPeersLocked returns the active peers in random order.
func (r *Replicator) shuffledPeersLocked() []*peer {
	ps := make([]*peer, 0, len(r.peers))
	for _, p := range r.peers {
		if p.activeLocked() {
			ps = append(ps, p)
		}
	}
	rand.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	return ps
}
