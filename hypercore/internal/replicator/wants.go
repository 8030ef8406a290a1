package replicator

// remoteWants tracks the ranges a remote asked about with want messages, so
// that local changes in them are announced (JS lib/wants.js RemoteWants).
// The zero value is empty. It is guarded by the replicator's lock.
type remoteWants struct {
	anyRanges []wantRange // wants with the any flag
	all       bool        // too many wants: announce everything
	size      int
	batches   []wantBatchSet
}

type wantRange struct{ start, length uint64 }

// wantBatchSet holds the wanted batches of one batch length.
type wantBatchSet struct {
	length uint64
	ranges map[uint64]bool // start / length
}

// validBatchRange reports whether a want is an aligned power-of-two batch
// JS would track individually.
func validBatchRange(start, length uint64) bool {
	if length > maxRemoteWantRange || length < minRemoteWantRange {
		return false
	}
	if length&(length-1) != 0 {
		return false
	}
	return start&(length-1) == 0
}

// add records a want. It returns false for wants JS ignores (too long).
func (w *remoteWants) add(start, length uint64, anyRange bool) bool {
	if anyRange {
		if len(w.anyRanges) < maxRemoteAny {
			w.anyRanges = append(w.anyRanges, wantRange{start, length})
		} else {
			w.all = true
		}
		return true
	}
	if length > maxRemoteWantRange {
		return false
	}
	if !validBatchRange(start, length) || w.size >= maxRemoteWants {
		w.all = true
		return true
	}
	for i := range w.batches {
		b := &w.batches[i]
		if b.length == length {
			if !b.ranges[start/length] {
				b.ranges[start/length] = true
				w.size++
			}
			return true
		}
	}
	if len(w.batches) >= maxRemoteBatches {
		w.all = true
		return true
	}
	w.batches = append(w.batches, wantBatchSet{length: length, ranges: map[uint64]bool{start / length: true}})
	w.size++
	return true
}

// remove withdraws a want.
func (w *remoteWants) remove(start, length uint64, anyRange bool) {
	if anyRange {
		for i, a := range w.anyRanges {
			if a.start == start && a.length == length {
				w.anyRanges = append(w.anyRanges[:i], w.anyRanges[i+1:]...)
				return
			}
		}
		return
	}
	if !validBatchRange(start, length) {
		return
	}
	for i := range w.batches {
		b := &w.batches[i]
		if b.length != length {
			continue
		}
		if b.ranges[start/length] {
			delete(b.ranges, start/length)
			w.size--
		}
		if len(b.ranges) == 0 {
			w.batches = append(w.batches[:i], w.batches[i+1:]...)
		}
		return
	}
}

func (w *remoteWants) hasAny(start, length uint64) bool {
	e := start + length
	for _, a := range w.anyRanges {
		end := a.start + a.length
		if a.start <= start && start < end {
			return true
		}
		if a.start < e && e <= end {
			return true
		}
	}
	return w.all
}

// has reports whether block index is in a wanted batch.
func (w *remoteWants) has(index uint64) bool {
	for _, b := range w.batches {
		if b.ranges[index/b.length] {
			return true
		}
	}
	return w.all
}

// hasRange reports whether the remote may want any block of [start,
// start+length), checking at most a few batches as JS does.
func (w *remoteWants) hasRange(start, length uint64) bool {
	if len(w.anyRanges) > 0 && w.hasAny(start, length) {
		return true
	}
	if length == 1 {
		return w.has(start)
	}
	var smallest uint64
	for _, b := range w.batches {
		if smallest == 0 || b.length < smallest {
			smallest = b.length
		}
	}
	if smallest == 0 {
		return w.all
	}
	end := start + length
	checks := 3
	for i := start - start&(smallest-1); i < end; i += smallest {
		if checks == 0 {
			return true
		}
		checks--
		if w.has(i) {
			return true
		}
	}
	return w.all
}
