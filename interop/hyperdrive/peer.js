// A JS hyperdrive 13.3.4 peer that replicates over TCP on 127.0.0.1, for
// the Go tests of package hyperdrive (hyperdrive/interop_replicate_test.go):
// corestores in a temporary folder, replicating with store.replicate(
// isInitiator) piped to a net socket (secret-stream + protomux). One JSON
// command per line on stdin, one JSON answer per line on stdout, in order.
// Ops are those of drive.js.
//
//   { op: 'seed', ops, dir }
//       a new drive in a new store; applies ops, mirrors the drive into
//       the folder dir (mirror-drive 1.14.2 into localdrive 2.2.1: the
//       reference tree), then serves the store to every TCP client (as the
//       stream responder): { key, port, version }
//   { op: 'mirror', key, port, version, dir }
//       a new store dials 127.0.0.1:port (as the initiator); the drive
//       with key, once at version, is mirrored into the folder dir:
//       { version, count }
//   { op: 'close' }   closes everything and exits
const Hyperdrive = require('hyperdrive')
const Localdrive = require('localdrive')
const MirrorDrive = require('mirror-drive')
const { applyOp } = require('../lib/driveops.js')
const { storePeer } = require('../lib/storepeer.js')

const { newStore, serve, dial, run } = storePeer('gopear-drive-peer-')

run({
  async seed({ ops, dir }) {
    const store = await newStore()
    const drive = new Hyperdrive(store)
    await drive.ready()
    for (const op of ops) await applyOp(drive, op)
    await new MirrorDrive(drive, new Localdrive(dir)).done()
    const port = await serve(store)
    return { key: drive.key.toString('hex'), port, version: drive.version }
  },
  async mirror({ key, port, version, dir }) {
    const store = await newStore()
    const drive = new Hyperdrive(store, Buffer.from(key, 'hex'))
    await drive.ready()
    await dial(store, port)
    const deadline = Date.now() + 20000
    while (drive.version < version) {
      if (Date.now() > deadline) throw new Error('drive version ' + drive.version + ', want ' + version)
      if (drive.core.peers.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
      else await drive.update({ wait: true })
    }
    const mirror = new MirrorDrive(drive, new Localdrive(dir))
    await mirror.done()
    return { version: drive.version, count: mirror.count }
  }
})
