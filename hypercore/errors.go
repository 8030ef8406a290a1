package hypercore

import (
	"errors"

	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/storage"
)

// Errors of the [Core] API. Every error a core returns for one of these
// conditions wraps the sentinel, so callers test with errors.Is.
var (
	// ErrClosed is returned by calls on a closed session, or on any session
	// of a core whose [Store] was closed.
	ErrClosed = errors.New("hypercore: closed")

	// ErrNotWritable is returned by Append and Truncate on a core whose
	// key pair this process does not hold, and by every change on a
	// snapshot (JS SESSION_NOT_WRITABLE).
	ErrNotWritable = errors.New("hypercore: core is not writable")

	// ErrNotAvailable is returned by Get and Seek with NoWait when the block
	// is not stored locally (JS returns null).
	ErrNotAvailable = errors.New("hypercore: block not available locally")

	// ErrSnapshotNotAvailable is returned by a snapshot's Get for a block
	// the snapshot did not hold and that the core has since truncated (JS
	// SNAPSHOT_NOT_AVAILABLE).
	ErrSnapshotNotAvailable = errors.New("hypercore: block not available in this snapshot")

	// ErrOutOfBounds is wrapped by errors for indexes, lengths and byte
	// offsets outside the core (JS ASSERTION / INVALID_OPERATION).
	ErrOutOfBounds = errors.New("hypercore: out of bounds")

	// ErrBlockTooLarge is returned by Append for a block over
	// [MaxBlockSize] bytes (JS BAD_ARGUMENT).
	ErrBlockTooLarge = errors.New("hypercore: block exceeds the maximum block size")

	// ErrNotFound is returned when a core asked for by key or discovery key
	// is not in the store, and by GetUserData for a key with no value.
	ErrNotFound = errors.New("hypercore: not found")

	// ErrKeyMismatch is returned by Open when the options contradict each
	// other or the stored core: a key that is not the hash of the manifest,
	// a key pair that is not one of the manifest's signers.
	ErrKeyMismatch = errors.New("hypercore: key does not match manifest or key pair")

	// ErrCorrupt is wrapped by errors for stored state that does not
	// verify when a core is opened: a head whose tree hash does not match
	// its stored roots.
	ErrCorrupt = errors.New("hypercore: corrupt core")

	// ErrBadSignature is wrapped by the errors of signatures that do not
	// verify (JS INVALID_SIGNATURE). It is merkle.ErrBadSignature, so the
	// replicator and the public API agree.
	ErrBadSignature = merkle.ErrBadSignature

	// ErrBadProof is wrapped by the errors of proofs that do not verify
	// (JS INVALID_PROOF, INVALID_CHECKSUM).
	ErrBadProof = merkle.ErrBadProof

	// ErrConflict is returned when a change raced with another change of
	// the same core and was not applied (JS returns false from verify).
	ErrConflict = merkle.ErrConflict
)

// notFound translates storage's not-found into ours, keeping other errors.
func notFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return ErrNotFound
	}
	if errors.Is(err, storage.ErrClosed) {
		return ErrClosed
	}
	return err
}
