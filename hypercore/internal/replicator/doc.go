// Package replicator is hypercore's replication protocol: the
// "hypercore/alpha" protomux channel a core opens on every connection, the
// messages it exchanges there, and the scheduling of the requests that
// download blocks and upgrades from peers. It matches lib/replicator.js of
// hypercore 11.39.5 on the wire (PROTOCOLS.md §5.4-5.7), so a Go core
// replicates with JS cores in both directions.
//
// A [Replicator] serves one [Core]. [Replicator.Attach] opens the core's
// channel on a protomux session; every fully opened channel is a peer.
// Readers call [Replicator.WaitBlock], [Replicator.Update] and
// [Replicator.Download]; the core calls [Replicator.OnAppend],
// [Replicator.OnTruncate] and [Replicator.OnClear] after local changes so
// that peers hear about them.
//
// # Protocol
//
// Channel: protocol "hypercore/alpha", alias "hypercore", id the discovery
// key, handshake {seeks, capability}; a remote capability that does not
// match destroys the mux, as in JS. Once open, each side sends, corked, a
// sync (fork, length, flags) and a range for its contiguous prefix
// (subject to the same filtering JS applies for sparse cores).
//
// As a responder it answers every request with data (proof from
// [Core.Proof], the manifest when asked and known) or noData (1: not
// available, 2: invalid request), in a per-peer goroutine that waits for the
// mux to drain between replies, so the mux reader never blocks on a slow
// network and cancel messages withdraw queued requests. Replies to requests
// that queued up together go out corked, several in one protomux batch. It answers want
// with range or bitfield messages and tracks the remote's wants to decide
// which local changes to announce.
//
// As a requester it tracks each peer's fork, length, contiguous length and
// bitfield (from sync, range and bitfield messages) and sends requests only
// for blocks a peer advertised, to the least loaded such peer, up to a
// window per peer (Options.MaxInflight; by default 48 requests, more for
// cores of small blocks) so that downloads are pipelined. A block request
// asks for the proof nodes missing up to the first one another request in
// flight will bring; should that answer not come first, the block's proof
// fails without blame and the block is asked for again with every missing
// node. A block a peer did not advertise makes the replicator send a want
// for its 2^21-block batch. Upgrades follow JS: whenever a peer announces a longer length that
// extends ours, an upgrade request {start: our length, length: the
// difference} is sent (eagerly, without a waiter, as JS's eagerUpgrade), with
// the manifest flag while the core has no manifest; block requests past our
// length carry the upgrade. Data is queued for the replicator's apply
// goroutine, which takes what arrived meanwhile together: through
// [BatchApplier.ApplyBatch] when the core has it (the blocks of many
// answers stored in one write), else [Core.Apply] one by one. Answers
// waiting there count against the peer's window. On success the
// replicator wakes waiters and announces the change to every peer (range,
// and sync when the length changed). A peer whose data fails verification
// (bad proof, bad signature, invalid data) is dropped: its channel is
// closed, and its requests go to other peers. A request that stays
// unanswered for Options.RequestTimeout is cancelled and sent to another
// peer; a peer that times out Options.MaxTimeouts times in a row is
// dropped too.
//
// Forks: a peer on a higher fork is sent a fork proof request (upgrade from
// 0 to its length); the answer starts a [Core.Reorg], which is completed
// with hash requests and committed, after which the core is on the new fork.
//
// # Concurrency
//
// All methods are safe for concurrent use. Protomux callbacks run on the mux
// goroutines; they never wait on the network (sends are queued by the mux).
// Replicator.mu guards all replication state (peers, requests, waiters);
// it is held while sending (queueing) messages and while calling the
// cheap Core methods (State, HasBlock, MissingNodes, AppendBitfield,
// Upgradeable), never while calling Core.Proof, Core.Apply or Core.Reorg.
// Lock order: Replicator.mu, then the mux's locks, then the core's.
// Replicator.applyMu serializes Apply, Reorg and Commit. Notifications from
// the core take only Replicator.nmu (a leaf lock) and are processed on the
// replicator's own goroutine.
//
// Goroutines: two per replicator (notifications and request timeouts;
// applying received data) and one per attached channel (answering
// requests). Close stops and waits for
// all of them.
package replicator
