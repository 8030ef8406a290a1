package hypercore

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// TestAppendBlock reads blocks into one reused buffer, after a prefix, on
// a plain and an encrypted core and on a snapshot.
func TestAppendBlock(t *testing.T) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, 32)
	for _, opts := range []*Options{
		{KeyPair: seedKeyPair(1)},
		{KeyPair: seedKeyPair(2), EncryptionKey: key},
	} {
		c := memCore(t, opts)
		blocks := blocksOf("alpha", "", "gamma gamma")
		mustAppend(t, c, blocks...)
		snap, err := c.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		defer snap.Close()
		for _, core := range []*Core{c, snap} {
			buf := []byte("prefix")
			for i, want := range blocks {
				got, err := core.AppendBlock(ctx, buf[:6], uint64(i), &GetOptions{NoWait: true})
				if err != nil || string(got[:6]) != "prefix" || !bytes.Equal(got[6:], want) {
					t.Fatalf("AppendBlock(%d) = %q, %v", i, got, err)
				}
				buf = got
			}
			got, err := core.AppendBlock(ctx, buf[:6], 3, &GetOptions{NoWait: true})
			if !errors.Is(err, ErrNotAvailable) && !errors.Is(err, ErrSnapshotNotAvailable) || string(got) != "prefix" {
				t.Fatalf("AppendBlock(3) = %q, %v", got, err)
			}
		}
		if got := mustGet(t, c, 1); got == nil || len(got) != 0 {
			t.Fatalf("Get of an empty block = %#v", got)
		}
	}
}
