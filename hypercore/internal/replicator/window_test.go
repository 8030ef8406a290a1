package replicator

import "testing"

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		name         string
		opts         *Options
		st           State
		largestBlock int
		want         int
	}{
		{"empty core", nil, State{}, 0, defaultWindow},
		{"1 KiB blocks", nil, State{Length: 1000, ByteLength: 1000 << 10}, 0, maxWindow},
		{"16 KiB blocks", nil, State{Length: 1000, ByteLength: 1000 << 14}, 0, windowBytes >> 14},
		{"64 KiB blocks", nil, State{Length: 10, ByteLength: 10 << 16}, 0, defaultWindow},
		{"a large block seen", nil, State{Length: 1000, ByteLength: 1000 << 10}, 1 << 16, defaultWindow},
		{"a huge block seen", nil, State{Length: 1000, ByteLength: 1000 << 10}, 16 << 20, defaultWindow},
		{"explicit", &Options{MaxInflight: 7}, State{Length: 1000, ByteLength: 1000}, 0, 7},
	} {
		r := newWriter(1, tc.opts).rep
		r.mu.Lock()
		r.largestBlock = tc.largestBlock
		r.setWindowLocked(tc.st)
		got := r.window
		r.mu.Unlock()
		r.Close()
		if got != tc.want {
			t.Errorf("%s: window %d, want %d", tc.name, got, tc.want)
		}
	}
}
