package protomux

import (
	"fmt"

	"github.com/gopear/gopear/cenc"
)

// A frame is one message of the underlying stream:
//
//	uint channel ‖ uint type ‖ payload
//
// where channel is the sender's local id of the channel (0 is the control
// channel) and, for channels other than 0, type is the index of the message
// type in the order the channel registered them. Control types follow.
const (
	typeBatch  = 0 // uint firstChannel ‖ entries (see appendBatch)
	typeOpen   = 1 // uint localId ‖ string protocol ‖ optionalBuffer id ‖ handshake…
	typeReject = 2 // uint id the opener used
	typeClose  = 3 // uint localId
)

const (
	// maxBatch is the size at which a corked batch is flushed early
	// (protomux MAX_BATCH).
	maxBatch = 8 << 20
	// maxBuffered is how many bytes of messages for channels paired but not
	// yet opened are held before the mux stops reading (protomux
	// MAX_BUFFERED).
	maxBuffered = 32 << 10
	// bufferedOverhead is what each held message counts on top of its size,
	// as protomux counts it.
	bufferedOverhead = 512
	// maxBatchDepth bounds batches nested in batches, which protomux never
	// sends.
	maxBatchDepth = 32
)

// appendOpen appends an open control frame.
func appendOpen(b []byte, localID uint64, protocol string, id, handshake []byte) []byte {
	b = append(b, 0, typeOpen)
	b = cenc.AppendUint(b, localID)
	b = cenc.AppendString(b, protocol)
	b = cenc.AppendBuffer(b, id) // optionalBuffer: nil and empty are both 00
	return append(b, handshake...)
}

// appendControl appends a reject or close control frame naming id.
func appendControl(b []byte, typ byte, id uint64) []byte {
	return cenc.AppendUint(append(b, 0, typ), id)
}

// appendMessage appends a channel message frame.
func appendMessage(b []byte, channel, typ uint64, payload []byte) []byte {
	b = cenc.AppendUint(b, channel)
	b = cenc.AppendUint(b, typ)
	return append(b, payload...)
}

// frameError is a malformed frame: it wraps ErrProtocol and the decoding
// error.
func frameError(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrProtocol, what, err)
}

// parseFrame walks one non-empty frame and calls visit for every message it
// carries, in order: the sender's channel id, the message type and the
// payload (sub-slices of frame). Batch frames are flattened; visit never
// sees type 0 on channel 0. It stops at the first error, from the frame or
// from visit. A batch entry whose length runs past the end of its batch is
// cut at the end, as protomux cuts it.
func parseFrame(frame []byte, visit func(channel, typ uint64, payload []byte) error) error {
	var d cenc.Decoder
	d.Reset(frame)
	channel := d.Uint()
	if err := d.Err(); err != nil {
		return frameError("frame channel", err)
	}
	return parseMessage(channel, frame[d.Offset():], 0, visit)
}

// parseMessage walks one message, uint type ‖ payload, sent on channel.
func parseMessage(channel uint64, p []byte, depth int, visit func(channel, typ uint64, payload []byte) error) error {
	var d cenc.Decoder
	d.Reset(p)
	typ := d.Uint()
	if err := d.Err(); err != nil {
		return frameError("message type", err)
	}
	if channel == 0 && typ == typeBatch {
		return parseBatch(p[d.Offset():], depth+1, visit)
	}
	return visit(channel, typ, p[d.Offset():])
}

// parseBatch walks the entries of a batch.
func parseBatch(p []byte, depth int, visit func(channel, typ uint64, payload []byte) error) error {
	if depth > maxBatchDepth {
		return fmt.Errorf("%w: batches nested deeper than %d", ErrProtocol, maxBatchDepth)
	}
	var d cenc.Decoder
	d.Reset(p)
	channel := d.Uint()
	for d.Err() == nil && d.Remaining() > 0 {
		n := d.Uint()
		if d.Err() != nil {
			break
		}
		if n == 0 {
			channel = d.Uint()
			continue
		}
		if rem := uint64(d.Remaining()); n > rem {
			n = rem
		}
		if err := parseMessage(channel, d.Fixed(int(n)), depth, visit); err != nil {
			return err
		}
	}
	if err := d.Err(); err != nil {
		return frameError("batch", err)
	}
	return nil
}
