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
const Corestore = require('corestore')
const Hyperdrive = require('hyperdrive')
const Localdrive = require('localdrive')
const MirrorDrive = require('mirror-drive')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-drive-peer-'))
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const closers = []
let n = 0

// gen: the same test content as drive.js and the Go tests.
function gen(pattern, seed, size, blockSize = 65536) {
  const b = Buffer.alloc(size)
  for (let j = 0; j < size; j++) {
    if (pattern === 'repeat') b[j] = (Math.floor(j / blockSize) % 3) + seed
    else b[j] = (seed * 31 + j * 7 + (j >>> 9)) & 0xff
  }
  return b
}

async function applyOp(drive, op) {
  const opts = {}
  if (op.executable) opts.executable = true
  if (op.metadata !== undefined) opts.metadata = op.metadata
  switch (op.t) {
    case 'put':
      return drive.put(op.path, gen(op.pattern, op.seed || 0, op.size || 0), opts)
    case 'stream': {
      const content = gen(op.pattern, op.seed || 0, op.size || 0)
      const ws = drive.createWriteStream(op.path, opts)
      const done = new Promise((resolve, reject) => {
        ws.once('error', reject)
        ws.once('close', resolve)
      })
      for (let off = 0, k = 0; off < content.length; k++) {
        const c = op.chunks[k % op.chunks.length]
        ws.write(content.subarray(off, off + c))
        off += c
      }
      ws.end()
      return done
    }
    case 'symlink':
      return drive.symlink(op.path, op.target, op.metadata !== undefined ? { metadata: op.metadata } : {})
    case 'del':
      return drive.del(op.path)
    case 'batch': {
      const b = drive.batch()
      for (const o of op.ops) await applyOp(b, o)
      return b.flush()
    }
  }
  throw new Error('unknown op ' + op.t)
}

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
  async seed({ ops, dir }) {
    const store = await newStore()
    const drive = new Hyperdrive(store)
    await drive.ready()
    for (const op of ops) await applyOp(drive, op)
    await new MirrorDrive(drive, new Localdrive(dir)).done()
    const server = net.createServer((socket) => replicate(store, socket, false))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(() => server.close())
    return { key: drive.key.toString('hex'), port: server.address().port, version: drive.version }
  },
  async mirror({ key, port, version, dir }) {
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
    while (drive.version < version) {
      if (Date.now() > deadline) throw new Error('drive version ' + drive.version + ', want ' + version)
      if (drive.core.peers.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
      else await drive.update({ wait: true })
    }
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
rl.on('close', () => {
  chain = chain.then(finish)
})

async function finish() {
  for (const c of closers.reverse()) {
    try {
      await c()
    } catch {}
  }
  fs.rmSync(root, { recursive: true, force: true })
  process.exit(0)
}
