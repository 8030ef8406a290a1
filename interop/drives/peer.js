// A JS hyperdrive 13 peer for the Go tests of the drives CLI
// (cmd/drives/cli/interop_test.go), the way JS drives replicates: a
// corestore replicating over a plain TCP socket on 127.0.0.1
// (store.replicate(isInitiator) piped to the socket: secret-stream +
// protomux). One JSON command per line on stdin, one JSON answer per line
// on stdout; file contents travel as base64, keys as hex.
//
//   { op: 'seed', files: [{ path, content?, executable?, link? }] }
//       a new drive in a new store, with those files (or links), served
//       to every TCP client: { key, port, version }
//   { op: 'put', path, content }
//       writes a file to the drive seeded last: { version }
//   { op: 'mirror', key, port, dir }
//       a new store connected to 127.0.0.1:port; the drive key, updated
//       to the peer's version, mirrored into the folder dir with
//       mirror-drive and localdrive: { version, count }
//   { op: 'close' }   closes everything and exits
const Hyperdrive = require('hyperdrive')
const Localdrive = require('localdrive')
const MirrorDrive = require('mirror-drive')
const { storePeer } = require('../lib/storepeer.js')

const { newStore, serve, dial, run } = storePeer('gopear-drives-')
let seeded = null

run({
  async seed({ files }) {
    const store = await newStore()
    const drive = new Hyperdrive(store)
    await drive.ready()
    for (const f of files) {
      if (f.link) await drive.symlink(f.path, f.link)
      else await drive.put(f.path, Buffer.from(f.content || '', 'base64'), { executable: !!f.executable })
    }
    seeded = drive
    const port = await serve(store)
    return { key: drive.key.toString('hex'), port, version: drive.version }
  },
  async put({ path, content }) {
    await seeded.put(path, Buffer.from(content || '', 'base64'))
    return { version: seeded.version }
  },
  async mirror({ key, port, dir }) {
    const store = await newStore()
    const drive = new Hyperdrive(store, Buffer.from(key, 'hex'))
    await drive.ready()
    await dial(store, port)
    const deadline = Date.now() + 20000
    while (drive.core.peers.length === 0) {
      if (Date.now() > deadline) throw new Error('no peer')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await drive.update({ wait: true })
    const mirror = new MirrorDrive(drive, new Localdrive(dir))
    await mirror.done()
    return { version: drive.version, count: mirror.count }
  }
})
