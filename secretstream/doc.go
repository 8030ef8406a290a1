// Package secretstream is an encrypted, authenticated stream between two
// peers that each hold an Ed25519 key pair, wire-compatible with the JS
// module @hyperswarm/secret-stream 6.9.2 (noise-handshake 4.2.0,
// noise-curve-ed 2.1.0, sodium-secretstream 1.2.0). Every connection of the
// Holepunch stack runs over one: hyperswarm and hyperdht connections, and
// hypercore replication on any other transport.
//
// # Protocol
//
// Over any byte stream, every message is framed as a 24-bit little-endian
// length and the bytes. The two sides first run the Noise XX handshake with
// the Ed25519 "curve" of noise-curve-ed (package [noise]); the dialling side
// is the initiator and speaks first. Each side then sends a 56-byte message
// holding its stream id (BLAKE2b-256 of its role's namespace, keyed with the
// handshake hash) and the header of a libsodium
// crypto_secretstream_xchacha20poly1305 stream keyed with its half of the
// handshake's split; from then on every frame is one encrypted message
// (17 bytes longer than its plaintext). There is no in-band close: a side
// ends by ending the transport. PROTOCOLS.md section 3 has the details.
//
// [Client] and [Server] run the handshake; [FromHandshake] continues from
// one done elsewhere (hyperdht runs Noise IK over the DHT). A [Conn] is a
// net.Conn whose Read and Write see a plain byte stream; [Conn.WriteMessage]
// and [Conn.ReadMessage] keep message boundaries, one protomux frame per
// message, as the JS stream does.
//
// # Differences from the JS module
//
//   - Options.RemotePublicKey is enforced (JS does not check it for XX).
//   - The unordered datagrams of send/trySend (UDX only) are not
//     implemented.
//   - Bytes are received only while a read is in progress: the idle
//     timeout (Options.Timeout) counts from the last bytes read, so keep a
//     read pending, as protomux does.
//   - Handshake messages are limited to 65535 bytes (the Noise maximum).
//
// # Concurrency
//
// A Conn is safe for concurrent use, with the rules of net.Conn: reads and
// writes take separate locks, so one goroutine can read while another
// writes; concurrent readers (or writers) take turns, each message written
// whole. Close may be called at any time from any goroutine and unblocks
// everything. A Conn starts no goroutines; the keepalive and idle timers
// run as time.AfterFunc functions that Close stops.
package secretstream
