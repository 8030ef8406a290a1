package hyperbee

import (
	"context"
	"errors"
	"sync"

	"github.com/gopear/gopear/hypercore"
)

// WatchUpdate is a change [Bee.Watch] reports: snapshots of the bee
// before and after, which differ in the watched range.
type WatchUpdate struct {
	Current, Previous *Bee
}

// Watcher reports changes of a range of a bee (JS bee.watch()). It is made
// by [Bee.Watch] and must be closed.
type Watcher struct {
	bee     *Bee
	r       Range
	updates chan WatchUpdate
	wake    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	err     error // why the watcher stopped, valid after done
}

// Watch watches r (the whole bee, or the whole sub, with the zero Range)
// and delivers a [WatchUpdate] on [Watcher.Updates] each time the bee
// changes there: after an append by this bee, and after any append or
// truncation the core reports (when it has a Watch method, as
// *hypercore.Core does). Updates never block the bee: when the consumer
// has not taken the previous update yet, the two are merged into one
// spanning both (the older Previous, the newer Current). A checkout
// cannot be watched.
func (b *Bee) Watch(r Range) (*Watcher, error) {
	if b.checkout != 0 {
		return nil, ErrReadOnly
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{
		bee:     b,
		r:       r,
		updates: make(chan WatchUpdate, 1),
		wake:    make(chan struct{}, 1),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	if err := b.sh.addWatcher(w); err != nil {
		cancel()
		return nil, err
	}
	fork := coreFork(b.sh.core)
	current := b.Snapshot()
	go w.run(current, fork)
	return w, nil
}

// Updates returns the channel of updates. It is closed when the watcher
// stops: after Close, after the bee closes, or on an error ([Watcher.Err]).
func (w *Watcher) Updates() <-chan WatchUpdate { return w.updates }

// Err returns the error that stopped the watcher, once Updates is closed;
// nil after Close.
func (w *Watcher) Err() error {
	select {
	case <-w.done:
		return w.err
	default:
		return nil
	}
}

// Close stops the watcher and waits for its goroutine. It is idempotent.
func (w *Watcher) Close() error {
	w.once.Do(func() {
		w.cancel()
		<-w.done
		w.bee.sh.removeWatcher(w)
	})
	return nil
}

func (w *Watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Watcher) run(current *Bee, fork uint64) {
	defer close(w.done)
	defer close(w.updates)
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		}
		f := coreFork(w.bee.sh.core)
		if w.bee.Version() == current.Version() && f == fork {
			continue
		}
		previous := current
		current = w.bee.Snapshot()
		// After a truncation the versions share no history to diff: JS
		// reports the change as it is.
		changed, err := f != fork, error(nil)
		fork = f
		if !changed {
			changed, err = w.changed(current, previous)
		}
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				w.err = err
			}
			return
		}
		if changed {
			w.deliver(WatchUpdate{Current: current, Previous: previous})
		}
	}
}

// changed reports whether the two snapshots differ in the range.
func (w *Watcher) changed(current, previous *Bee) (bool, error) {
	if current.Version() == previous.Version() {
		return false, nil
	}
	r := w.r
	r.Limit = 1
	for _, err := range current.Diff(w.ctx, previous, r) {
		return err == nil, err
	}
	return false, nil
}

// deliver sends u without blocking, merging it with an update the
// consumer has not taken yet. run is the only sender.
func (w *Watcher) deliver(u WatchUpdate) {
	select {
	case w.updates <- u:
		return
	default:
	}
	select {
	case old := <-w.updates:
		u.Previous = old.Previous
	default:
	}
	w.updates <- u
}

func (sh *shared) addWatcher(w *Watcher) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		return ErrClosed
	}
	if sh.watchers == nil {
		sh.watchers = make(map[*Watcher]struct{})
	}
	sh.watchers[w] = struct{}{}
	if sh.stopWatch == nil {
		if wc, ok := sh.core.(watchableCore); ok {
			sh.stopWatch = wc.Watch(func(ev hypercore.Event) {
				if ev.Kind == hypercore.EventAppend || ev.Kind == hypercore.EventTruncate {
					sh.notify()
				}
			})
		}
	}
	return nil
}

func (sh *shared) removeWatcher(w *Watcher) {
	sh.mu.Lock()
	delete(sh.watchers, w)
	var stop func()
	if len(sh.watchers) == 0 && sh.stopWatch != nil {
		stop, sh.stopWatch = sh.stopWatch, nil
	}
	sh.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// notify wakes every watcher.
func (sh *shared) notify() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for w := range sh.watchers {
		w.signal()
	}
}
