// A JS hyperdrive 13.3.4 writer for the Go tests of hyperdrive.Watch and
// of drives mirror --live (hyperdrive/watch_interop_test.go,
// cmd/drives/cli/live_test.go): a drive in a corestore served over TCP on
// 127.0.0.1 (store.replicate(false) piped to each socket: secret-stream +
// protomux), written one command at a time while Go peers watch their
// replicas. The writer also watches its own drive with JS drive.watch
// (folder), so that the tests can compare the versions JS reports with
// theirs. One JSON command per line on stdin, one JSON answer per line on
// stdout; file contents travel as base64, keys as hex.
//
//   { op: 'seed', folder, files: [{ path, content }] }
//       a new drive with those files, served to every TCP client, and
//       watched under folder: { key, port, version }
//   { op: 'put', path, content }   writes a file: { version }
//   { op: 'del', path }            deletes an entry: { version }
//   { op: 'watched' }
//       the updates JS's drive.watch(folder) yielded so far, once it has
//       caught up with the drive's version (or after 2s):
//       { updates: [{ current, previous }] }
//   { op: 'close' }   closes everything and exits
const Hyperdrive = require('hyperdrive')
const { storePeer } = require('../lib/storepeer.js')

const { newStore, serve, run } = storePeer('gopear-drive-watch-')
let drive = null
let watcher = null
const updates = []

run({
  async seed({ folder, files }) {
    const store = await newStore()
    drive = new Hyperdrive(store)
    await drive.ready()
    for (const f of files || []) await drive.put(f.path, Buffer.from(f.content || '', 'base64'))
    watcher = drive.watch(folder)
    await watcher.ready()
    consume()
    const port = await serve(store)
    return { key: drive.key.toString('hex'), port, version: drive.version }
  },
  async put({ path, content }) {
    await drive.put(path, Buffer.from(content || '', 'base64'))
    return { version: drive.version }
  },
  async del({ path }) {
    await drive.del(path)
    return { version: drive.version }
  },
  async watched() {
    // An update is yielded only for a change in the folder: wait until
    // the watcher has looked at the latest version.
    const deadline = Date.now() + 2000
    while (watcher.current.version < drive.version && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return { updates }
  }
})

async function consume() {
  try {
    for await (const [current, previous] of watcher) {
      updates.push({ current: current.version, previous: previous.version })
    }
  } catch {}
}
