package replicator

import (
	"fmt"
	"strings"
)

// dump describes the replicator's state for test failures.
func (r *Replicator) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	st := r.core.State()
	fmt.Fprintf(&b, "state %+v pending %d peers %d inflight %d\n", st, r.pending, len(r.peers), len(r.inflight))
	for _, p := range r.peers {
		fmt.Fprintf(&b, "  peer opened=%v removed=%v paused=%v fork=%d len=%d contig=%d canUp=%v remoteCanUp=%v acked=%d inflight=%d synced=%v\n",
			p.opened, p.removed, p.paused, p.remoteFork, p.remoteLength, p.remoteContig, p.canUpgrade, p.remoteCanUpgrade, p.lengthAcked, p.inflight, p.remoteSynced)
	}
	for id, req := range r.inflight {
		fmt.Fprintf(&b, "  req %d %+v block=%v up=%v fp=%v\n", id, req.msg, req.isBlock, req.isUpgrade, req.forkProof)
	}
	for i, bw := range r.blocks {
		fmt.Fprintf(&b, "  block %d refs=%d req=%v\n", i, bw.refs, bw.req != nil)
	}
	if u := r.upgrade; u != nil {
		fmt.Fprintf(&b, "  upgrade %+v\n", *u)
	}
	if rg := r.reorg; rg != nil {
		fmt.Fprintf(&b, "  reorg fork=%d r=%v req=%v\n", rg.fork, rg.r != nil, rg.req != nil)
	}
	return b.String()
}
