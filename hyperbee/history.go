package hyperbee

import (
	"context"
	"iter"
	"math"
)

// HistoryOptions selects the operations [Bee.History] yields, by seq (JS
// createHistoryStream options). A zero bound is absent; a negative one
// counts back from the bee's version (-1 is the latest block). Gt wins
// over Gte and Lte over Lt. The default range is every operation: seqs 1
// up to the version.
type HistoryOptions struct {
	Gt, Gte, Lt, Lte int64
	// Reverse yields the newest operation first.
	Reverse bool
	// Limit stops after that many entries; 0 or less means no limit.
	Limit int
	// Live keeps yielding operations as they are appended, forever (until
	// the context is done or the consumer stops). It ignores Lt, Lte and
	// Reverse.
	Live bool
}

// HistoryEntry is one operation of the bee's history.
type HistoryEntry struct {
	Entry
	// Del is true for a deletion (JS type 'del'), false for a put ('put').
	Del bool
}

// History iterates over the operations of the bee, one per block, in the
// order they were appended (JS createHistoryStream). Keys read through a
// sub lose the sub's prefix, but the history is the whole bee's: unlike
// JS, which cuts the prefix's length off every key, keys outside the sub
// are returned whole.
func (b *Bee) History(ctx context.Context, opts HistoryOptions) iter.Seq2[HistoryEntry, error] {
	return func(yield func(HistoryEntry, error) bool) {
		s, err := b.readSession(ctx, false)
		if err != nil {
			yield(HistoryEntry{}, err)
			return
		}
		v := int64(s.version())
		gte, lt := historyStart(opts, v), historyEnd(opts, v)
		if opts.Live {
			lt = math.MaxInt64
		} else {
			lt = min(lt, v) // JS fails past the version; stop there instead
		}
		gte = max(gte, 1)
		limit := opts.Limit
		for {
			if gte >= lt {
				return
			}
			var seq int64
			if opts.Reverse && !opts.Live {
				if lt <= 1 {
					return
				}
				lt--
				seq = lt
			} else {
				seq = gte
				gte++
			}
			blk, err := b.sh.loadBlock(ctx, uint64(seq), s.fork)
			if err != nil {
				yield(HistoryEntry{}, err)
				return
			}
			e := &entry{seq: uint64(seq), key: blk.key, value: blk.value, blk: blk}
			del, err := e.isDeletion()
			if err != nil {
				yield(HistoryEntry{}, err)
				return
			}
			he := HistoryEntry{Entry: b.final(e), Del: del}
			if len(b.prefix) > 0 && !hasPrefix(blk.key, b.prefix) {
				he.Key = append([]byte{}, blk.key...)
			}
			if !yield(he, nil) {
				return
			}
			if limit > 0 {
				if limit--; limit == 0 {
					return
				}
			}
		}
	}
}

func hasPrefix(k, p []byte) bool { return len(k) >= len(p) && string(k[:len(p)]) == string(p) }

// historyStart is JS history.js gte().
func historyStart(o HistoryOptions, v int64) int64 {
	if o.Gt != 0 {
		if o.Gt < 0 {
			return o.Gt + v + 1
		}
		return o.Gt + 1
	}
	gte := o.Gte
	if gte == 0 {
		gte = 1
	}
	if gte < 0 {
		return gte + v
	}
	return gte
}

// historyEnd is JS history.js lt().
func historyEnd(o HistoryOptions, v int64) int64 {
	if o.Lte != 0 {
		if o.Lte < 0 {
			return o.Lte + v + 1
		}
		return o.Lte + 1
	}
	lt := o.Lt
	if lt == 0 {
		lt = v
	}
	if lt < 0 {
		return lt + v
	}
	return lt
}
