package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/protomux"
)

// The protomux workload sends 32-byte messages on one channel from one mux
// to another over an in-memory message pipe, and counts them as the
// receiving handler sees them, so it measures the mux's own overhead:
// framing, channel lookup, decode, dispatch and the hand-off between
// goroutines. bench/js/protomux.js does the same over a pair of in-memory
// streamx duplexes. Each round sends n messages and waits until all arrived.

func init() {
	register(workload{
		name:  "protomux: small message rate (32 B, one channel, in-memory pipe)",
		unit:  "msgs/s",
		goal:  2,
		goRun: benchProtomuxGo,
		jsRun: jsWorkload("bench/js/protomux.js"),
	})
}

func benchProtomuxGo(ctx context.Context) (float64, error) {
	sa, sb := protomux.Pipe()
	sender, receiver := protomux.New(sa, nil), protomux.New(sb, nil)
	defer sender.Close()
	defer receiver.Close()

	var count, target atomic.Int64
	arrived := make(chan struct{}, 1)
	receiver.Pair("bench", nil, func(id []byte) {
		ch, err := receiver.CreateChannel(protomux.ChannelOptions{Protocol: "bench", ID: id})
		if err != nil {
			return
		}
		protomux.AddMessage(ch, cenc.Raw, func([]byte) error {
			if count.Add(1) == target.Load() {
				arrived <- struct{}{}
			}
			return nil
		})
		ch.Open(nil)
	})
	ch, err := sender.CreateChannel(protomux.ChannelOptions{Protocol: "bench"})
	if err != nil {
		return 0, err
	}
	msg := protomux.AddMessage(ch, cenc.Raw, nil)
	if err := ch.Open(nil); err != nil {
		return 0, err
	}
	if err := ch.WaitOpen(ctx); err != nil {
		return 0, err
	}
	payload := make([]byte, 32)
	return rate(ctx, 2*time.Second, func(n int) error {
		count.Store(0)
		target.Store(int64(n))
		for i := range n {
			if err := msg.Send(payload); err != nil {
				return err
			}
			if i%1024 == 1023 {
				// Keep the send queue bounded, as a real producer would.
				if err := sender.WaitDrained(ctx); err != nil {
					return err
				}
			}
		}
		select {
		case <-arrived:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}
