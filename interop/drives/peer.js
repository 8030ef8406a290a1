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
const Corestore = require('corestore')
const Hyperdrive = require('hyperdrive')
const Localdrive = require('localdrive')
const MirrorDrive = require('mirror-drive')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-drives-'))
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const closers = []
let n = 0
let seeded = null

function replicate(store, socket, isInitiator) {
  const s = store.replicate(isInitiator)
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
  closers.push(() => socket.destroy())
}

async function newStore() {
  const store = new Corestore(path.join(root, 'store' + n++))
  await store.ready()
  closers.push(() => store.close())
  return store
}

const ops = {
  async seed({ files }) {
    const store = await newStore()
    const drive = new Hyperdrive(store)
    await drive.ready()
    for (const f of files) {
      if (f.link) await drive.symlink(f.path, f.link)
      else await drive.put(f.path, Buffer.from(f.content || '', 'base64'), { executable: !!f.executable })
    }
    seeded = drive
    const server = net.createServer((socket) => replicate(store, socket, false))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(() => server.close())
    return { key: drive.key.toString('hex'), port: server.address().port, version: drive.version }
  },
  async put({ path, content }) {
    await seeded.put(path, Buffer.from(content || '', 'base64'))
    return { version: seeded.version }
  },
  async mirror({ key, port, dir }) {
    const store = await newStore()
    const drive = new Hyperdrive(store, Buffer.from(key, 'hex'))
    await drive.ready()
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    replicate(store, socket, true)
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
}

const rl = readline.createInterface({ input: process.stdin })
let chain = Promise.resolve()
rl.on('line', (line) => {
  chain = chain.then(async () => {
    const msg = JSON.parse(line)
    if (msg.op === 'close') return finish()
    try {
      out(await ops[msg.op](msg))
    } catch (err) {
      out({ error: err.stack || String(err) })
    }
  })
})
rl.on('close', () => { chain = chain.then(finish) })

async function finish() {
  for (const c of closers.reverse()) {
    try { await c() } catch {}
  }
  fs.rmSync(root, { recursive: true, force: true })
  process.exit(0)
}
