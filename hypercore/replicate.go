package hypercore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/gopear/gopear/hypercore/internal/replicator"
	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/protomux"
)

// ReplicationStream is what [Core.Replicate] needs from a connection: a
// message stream and the role and handshake hash of the Noise handshake
// that secured it, from which the replication capability is derived
// (PROTOCOLS.md §5.4). *secretstream.Conn is one.
type ReplicationStream interface {
	protomux.Stream
	// HandshakeHash returns the 64-byte hash of the Noise handshake.
	HandshakeHash() [64]byte
	// IsInitiator reports whether this side initiated the handshake.
	IsInitiator() bool
}

// Replicate replicates the core with the peer at the other end of s: it
// starts a protomux session on s and opens the core's channel on it (JS
// core.replicate(stream)). The session ends when s or the returned mux is
// closed, or when the core closes; the caller closes the mux (or s) when
// done with it. To replicate several cores over one stream, make the mux
// once and call [Core.Attach] for each.
func (c *Core) Replicate(s ReplicationStream) (*protomux.Mux, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	// The mux reads nothing until the channel is attached, so a peer's
	// open that is already on the wire pairs with it instead of being
	// rejected for want of a handler.
	mux := protomux.New(s, &protomux.Options{DeferRead: true})
	if err := c.Attach(mux, s.HandshakeHash(), s.IsInitiator()); err != nil {
		return nil, errors.Join(err, mux.Close())
	}
	mux.Start()
	return mux, nil
}

// Attach opens the core's replication channel ("hypercore/alpha", id the
// discovery key) on mux, whose stream has the given Noise handshake hash
// and role. It does not block and may be called from a protomux pair
// callback, which is how a store answers a peer that opens a core's
// channel first. The channel lives until the mux or the core closes.
func (c *Core) Attach(mux *protomux.Mux, handshakeHash [64]byte, isInitiator bool) error {
	if err := c.check(); err != nil {
		return err
	}
	r, err := c.st.replicator()
	if err != nil {
		return err
	}
	if err := r.Attach(mux, handshakeHash, isInitiator); err != nil {
		return fmt.Errorf("hypercore: attaching replication: %w", err)
	}
	return nil
}

// PeerInfo describes a peer the core replicates with: one open
// replication channel of the core (JS Peer).
type PeerInfo struct {
	// RemoteFork, RemoteLength and RemoteContiguous are what the peer
	// last announced: its fork, length and contiguous length.
	RemoteFork, RemoteLength, RemoteContiguous uint64
	// RemoteCanUpgrade: the peer can prove our length is a prefix of its
	// own. RemoteUploading, RemoteDownloading: its sync flags.
	RemoteCanUpgrade, RemoteUploading, RemoteDownloading bool
	// Inflight is the number of our requests the peer has not answered.
	Inflight int
	// RemotePublicKey is the peer's Noise static public key (JS
	// peer.remotePublicKey), when the stream under Mux reports one, as
	// *secretstream.Conn does; zero otherwise.
	RemotePublicKey Key
	// Mux is the protomux session of the peer's channel: the one
	// [Core.Replicate] returned or [Core.Attach] was given. A core has at
	// most one channel on a session, so Mux tells the core's peers apart,
	// in events and for [Extension.Send].
	Mux *protomux.Mux
}

// peerInfo converts the replicator's description of a peer.
func peerInfo(p replicator.PeerInfo) PeerInfo {
	info := PeerInfo{
		RemoteFork: p.RemoteFork, RemoteLength: p.RemoteLength, RemoteContiguous: p.RemoteContiguous,
		RemoteCanUpgrade: p.RemoteCanUpgrade, RemoteUploading: p.RemoteUploading,
		RemoteDownloading: p.RemoteDownloading, Inflight: p.Inflight, Mux: p.Mux,
	}
	if p.Mux != nil {
		if s, ok := p.Mux.Stream().(interface{ RemotePublicKey() [32]byte }); ok {
			info.RemotePublicKey = s.RemotePublicKey()
		}
	}
	return info
}

// Peers returns the peers the core is replicating with now: the channels
// that are fully open, in the order they opened (JS core.peers). A closed
// session has none.
func (c *Core) Peers() []PeerInfo {
	if c.check() != nil {
		return nil
	}
	c.st.mu.RLock()
	l := c.st.repl
	c.st.mu.RUnlock()
	rl, ok := l.(*replicatorLink)
	if !ok {
		return nil
	}
	var out []PeerInfo
	for _, p := range rl.r.Peers() {
		out = append(out, peerInfo(p))
	}
	return out
}

// replicator returns the core's replicator, making it on first use.
func (st *state) replicator() (*replicator.Replicator, error) {
	l, err := st.link()
	if err != nil {
		return nil, err
	}
	return l.r, nil
}

// link returns the core's replication, making its replicator on first
// use. Waiters wake so that they ask it for their blocks.
func (st *state) link() (*replicatorLink, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed.Load() {
		return nil, ErrClosed
	}
	if l, ok := st.repl.(*replicatorLink); ok {
		return l, nil
	}
	r := replicator.New(replCore{st}, &replicator.Options{
		Logger:       st.log,
		OnPeerAdd:    func(p replicator.PeerInfo) { st.emitPeer(EventPeerAdd, p) },
		OnPeerRemove: func(p replicator.PeerInfo) { st.emitPeer(EventPeerRemove, p) },
	})
	l := &replicatorLink{r: r, log: st.log}
	st.repl = l
	st.signalLocked()
	return l, nil
}

// emitPeer tells the watchers that a peer was added or removed. The
// replicator calls it with its lock held, which may be taken before the
// core's.
func (st *state) emitPeer(kind EventKind, p replicator.PeerInfo) {
	fork, length, byteLength := st.info()
	st.events.emit(Event{Kind: kind, Fork: fork, Length: length, ByteLength: byteLength, Peer: peerInfo(p)})
}

// replicatorLink is the core's replication, a replicator.Replicator,
// and the core's extensions (extension.go).
type replicatorLink struct {
	r   *replicator.Replicator
	log *slog.Logger

	// extMu guards exts. It is taken before the replicator's lock, never
	// while holding it.
	extMu sync.Mutex
	// exts holds, for each extension name registered with the
	// replicator, its registrations in order: the last one whose session
	// is open receives the messages.
	exts map[string][]*Extension
}

func (l *replicatorLink) onAppend(start, end uint64) { l.r.OnAppend(start, end-start) }
func (l *replicatorLink) onTruncate(newLength, oldLength uint64) {
	l.r.OnTruncate(newLength, oldLength)
}
func (l *replicatorLink) onClear(start, end uint64) { l.r.OnClear(start, end) }
func (l *replicatorLink) close() error              { return l.r.Close() }

func (l *replicatorLink) waitBlock(ctx context.Context, index uint64) error {
	return replErr(l.r.WaitBlock(ctx, index))
}

func (l *replicatorLink) update(ctx context.Context) (bool, error) {
	ok, err := l.r.Update(ctx)
	return ok, replErr(err)
}

func (l *replicatorLink) download(ctx context.Context, start, end uint64) error {
	d, err := l.r.Download(start, end)
	if err != nil {
		return replErr(err)
	}
	defer d.Close()
	return replErr(d.Wait(ctx))
}

// replErr gives the replicator's closed error our sentinel.
func replErr(err error) error {
	if errors.Is(err, replicator.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}

// replCore is the core as the replicator sees it (replicator.Core).
type replCore struct{ st *state }

var _ replicator.Core = replCore{}

func (c replCore) Key() [32]byte          { return c.st.key }
func (c replCore) DiscoveryKey() [32]byte { return c.st.dk }

func (c replCore) Capability(isInitiator bool, handshakeHash [64]byte) [32]byte {
	return Capability(isInitiator, c.st.key, handshakeHash)
}

func (c replCore) State() replicator.State {
	st := c.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.replStateLocked()
}

func (st *state) replStateLocked() replicator.State {
	length := st.tree.Length()
	return replicator.State{
		Fork:        st.tree.Fork(),
		Length:      length,
		ByteLength:  st.tree.ByteLength(),
		Contiguous:  min(st.bits.ContiguousLength(), length),
		HasManifest: st.manifest != nil,
		Compat:      st.manifest != nil && isCompat(st.key, st.manifest),
	}
}

func (c replCore) HasBlock(index uint64) bool {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return c.st.bits.Get(index)
}

func (c replCore) AppendBitfield(dst []uint32, start uint64, count int) []uint32 {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	out, err := c.st.bits.AppendWords(dst, start, count)
	if err != nil {
		return dst
	}
	return out
}

func (c replCore) Upgradeable(length uint64) bool {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	if length > c.st.tree.Length() {
		return false
	}
	ok, err := c.st.tree.Upgradeable(length)
	return ok && err == nil
}

func (c replCore) MissingNodes(index, limit uint64) (uint64, error) {
	c.st.mu.RLock()
	defer c.st.mu.RUnlock()
	return c.st.tree.MissingNodesUpTo(2*index, c.st.tree.Length(), limit)
}

func (c replCore) Proof(req *wire.Request, to replicator.PeerInfo) (*wire.Data, func(), error) {
	d, release, err := c.st.proof(req)
	if errors.Is(err, errUnavailable) {
		return nil, nil, fmt.Errorf("%w: %w", replicator.ErrNotAvailable, err)
	}
	if err == nil && d.Block != nil {
		fork, length, bl := c.st.info()
		c.st.events.emit(Event{Kind: EventUpload, Fork: fork, Length: length, ByteLength: bl, Start: d.Block.Index, Bytes: c.st.blockBytes(d.Block.Value), Peer: peerInfo(to)})
	}
	return d, release, err
}

func (c replCore) Manifest() *wire.Manifest { return c.st.wireManifest() }

func (c replCore) Apply(d *wire.Data, from replicator.PeerInfo) (replicator.Applied, error) {
	a, err := c.st.apply(d, from)
	if err != nil {
		return replicator.Applied{}, applyErr(err)
	}
	return c.applied(a), nil
}

func (c replCore) applied(a applied) replicator.Applied {
	return replicator.Applied{Block: a.block, Index: a.index, Upgraded: a.upgraded, Manifest: a.manifest, State: c.State()}
}

// applyErr gives errors about the peer's data the replicator's sentinel.
func applyErr(err error) error {
	if errors.Is(err, errInvalidData) {
		return fmt.Errorf("%w: %w", replicator.ErrInvalidData, err)
	}
	return err
}

func (c replCore) Reorg(d *wire.Data) (replicator.Reorg, error) {
	r, err := c.st.reorg(d)
	if err != nil {
		return nil, applyErr(err)
	}
	return replReorg{c: c, r: r}, nil
}

// replReorg is a reorg as the replicator sees it (replicator.Reorg).
type replReorg struct {
	c replCore
	r *reorgOp
}

func (r replReorg) Fork() uint64                              { return r.r.fork() }
func (r replReorg) Want() (start, end, nodes uint64, ok bool) { return r.r.want() }

func (r replReorg) Update(d *wire.Data) (bool, error) {
	ok, err := r.r.update(d)
	return ok, applyErr(err)
}

func (r replReorg) Commit() (replicator.Applied, error) {
	a, err := r.r.commit()
	if err != nil {
		return replicator.Applied{}, applyErr(err)
	}
	return r.c.applied(a), nil
}
