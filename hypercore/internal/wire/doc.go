// Package wire holds the replication messages of hypercore 11 and their
// compact-encoding codecs, byte for byte as hypercore 11.39.5 defines them in
// lib/messages.js (wire.*, manifest, multiSignature, multiSignaturev0). See
// PROTOCOLS.md §5.4 and §5.5 for the layouts and §5.1, §5.2 for the manifest
// and the multisig signature encodings.
//
// Every message type has three methods:
//
//   - Len returns the encoded size (compact-encoding preencode),
//   - Append appends the encoding to a caller's slice (encode),
//   - Decode reads the message from a [cenc.Decoder] (decode).
//
// [Unmarshal] decodes a whole payload into a message, and [Parse] decodes the
// payload of a replication channel message given its type ([Type]).
//
// # Canonical form
//
// Encoders write what JS writes: flags are derived from the fields, so a
// message decoded from a non-canonical input (for example a range whose
// length 1 is written out instead of flagged, or a priority flag with a zero
// value) re-encodes to the canonical form, which decodes to the same message.
// Decoding ignores unknown flag bits and bytes after the message, as JS does.
//
// # Decoding
//
// Decoders never panic. Array counts are refused above compact-encoding's
// limit ([cenc.MaxArrayLength]) and above what the remaining bytes can hold, before
// anything is allocated. Byte fields (block values, signatures, extension
// messages, user data) are sub-slices of the input; copy them if the input is
// reused. Values outside JavaScript's safe integer range are refused by cenc.
//
// Nothing in this package is safe for concurrent mutation; the codecs
// themselves hold no state.
package wire
