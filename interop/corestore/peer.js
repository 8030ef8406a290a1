// A JS corestore 7 peer for the Go corestore interop tests
// (corestore/interop_test.go): one store in a temporary folder,
// replicating over TCP on 127.0.0.1 with corestore's own replication
// stream (store.replicate(isInitiator): secret-stream + protomux), driven
// by one JSON command per line on stdin, one JSON answer per line on
// stdout. Commands run one at a time, in order. Block values are UTF-8
// strings; keys are hex.
//
//   { op: 'open', primaryKey? }       opens the store ({ primaryKey, unsafe })
//                                      : { primaryKey }
//   { op: 'write', name, namespaces?, blocks, close? }
//                                      get({ name }) in the nested namespaces,
//                                      appends blocks; counts the core's
//                                      uploads; with close, closes the
//                                      session afterwards (the store then
//                                      opens the core on demand):
//                                      { key, discoveryKey, length, writable }
//   { op: 'listen' }                  replicates with every TCP client as the
//                                      stream responder: { port }
//   { op: 'connect', port }           dials and replicates as the initiator:
//                                      { ok } once connected
//   { op: 'read', key, length, timeout? }
//                                      get({ key }) (kept open), waits for block
//                                      length-1, then reads blocks
//                                      0..length-1: { values, length, peers }
//   { op: 'tryGet', key, index, timeout }
//                                      get({ key }).get(index, { timeout }):
//                                      { value } or { error }, and { peers }
//   { op: 'uploads', key }            blocks uploaded by the core written
//                                      with that key: { uploads }
//   { op: 'has', discoveryKey }       whether the store holds the core:
//                                      { has }
//   { op: 'connections' }             { connections } opened so far
//   { op: 'close' }                   closes everything, exits
const Corestore = require('corestore')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-corestore-'))
const { out, serve } = require('../lib/commands.js')
const hex = (b) => Buffer.from(b).toString('hex')

let store = null
const sockets = []
const servers = []
const readers = new Map() // key hex -> core opened by read / tryGet
const uploads = new Map() // key hex -> count
let connections = 0

function replicate (socket, isInitiator) {
  connections++
  sockets.push(socket)
  const s = store.replicate(isInitiator)
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
}

function reader (key) {
  let core = readers.get(key)
  if (!core) {
    core = store.get({ key: Buffer.from(key, 'hex') })
    readers.set(key, core)
  }
  return core
}

const ops = {
  async open ({ primaryKey }) {
    const opts = primaryKey ? { primaryKey: Buffer.from(primaryKey, 'hex'), unsafe: true } : {}
    store = new Corestore(dir, opts)
    await store.ready()
    return { primaryKey: hex(store.primaryKey) }
  },
  async write ({ name, namespaces, blocks, close }) {
    let session = store
    for (const ns of namespaces || []) session = session.namespace(ns)
    const core = session.get({ name })
    await core.ready()
    const key = hex(core.key)
    if (!uploads.has(key)) {
      uploads.set(key, 0)
      core.on('upload', () => uploads.set(key, uploads.get(key) + 1))
    }
    if (blocks && blocks.length) await core.append(blocks.map((b) => Buffer.from(b)))
    const res = { key, discoveryKey: hex(core.discoveryKey), length: core.length, writable: core.writable }
    if (close) {
      await core.close()
      if (session !== store) await session.close()
    }
    return res
  },
  async listen () {
    const server = net.createServer((socket) => replicate(socket, false))
    servers.push(server)
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { port: server.address().port }
  },
  async connect ({ port }) {
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    replicate(socket, true)
    return { ok: true }
  },
  async read ({ key, length, timeout }) {
    const core = reader(key)
    await core.ready()
    if (length > 0) await core.get(length - 1, { timeout: timeout || 20000 })
    const values = []
    for (let i = 0; i < length; i++) values.push((await core.get(i, { timeout: timeout || 20000 })).toString())
    return { values, length: core.length, peers: core.peers.length }
  },
  async tryGet ({ key, index, timeout }) {
    const core = reader(key)
    await core.ready()
    try {
      const v = await core.get(index, { timeout })
      return { value: v === null ? null : v.toString(), peers: core.peers.length }
    } catch (err) {
      return { error: err.code || err.message, peers: core.peers.length }
    }
  },
  async uploads ({ key }) {
    return { uploads: uploads.get(key) || 0 }
  },
  async has ({ discoveryKey }) {
    return { has: await store.storage.hasCore(Buffer.from(discoveryKey, 'hex')) }
  },
  async connections () {
    return { connections }
  },
  async close () {
    for (const s of sockets) s.destroy()
    for (const s of servers) s.close()
    if (store) await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
    out({ ok: true })
    process.exit(0)
  }
}

serve(ops)
