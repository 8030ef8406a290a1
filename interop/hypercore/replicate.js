// A JS hypercore peer for the Go replicator interop tests, over TCP on
// 127.0.0.1 with hypercore's own replication stream (secret-stream +
// protomux), driven by one JSON command per line on stdin; one JSON answer
// per line on stdout.
//
//   { op: 'create', seed, blocks }      writable core (key pair from 32 bytes
//                                       of `seed`), appends blocks (strings):
//                                       { key, discoveryKey, length }
//   { op: 'open', key }                 empty core from a key (hex): { ok }
//   { op: 'listen' }                    replicate with the first TCP client,
//                                       as the stream responder: { port }
//   { op: 'connect', port }             dial and replicate as the initiator:
//                                       { ok } once connected
//   { op: 'append', blocks }            { length }
//   { op: 'get', index, timeout? }      core.get: { value } or { error }
//   { op: 'update' }                    core.update(): { updated, length }
//   { op: 'download', start, end }      core.download(...).done(): { ok }
//   { op: 'info' }                      { length, contiguousLength, fork, peers }
//   { op: 'truncate', length }          { length, fork }
//   { op: 'close' }                     closes everything, exits
const Hypercore = require('hypercore')
const crypto = require('hypercore-crypto')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-replicate-'))
const { out, serve } = require('../lib/commands.js')
let core = null
const sockets = []

function replicate (socket, isInitiator) {
  sockets.push(socket)
  const s = core.replicate(isInitiator, { keepAlive: false })
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
  return s
}

const ops = {
  async create ({ seed, blocks }) {
    core = new Hypercore(path.join(root, 'core'), { keyPair: crypto.keyPair(Buffer.alloc(32, seed)) })
    await core.ready()
    if (blocks && blocks.length) await core.append(blocks.map((b) => Buffer.from(b)))
    return { key: core.key.toString('hex'), discoveryKey: core.discoveryKey.toString('hex'), length: core.length }
  },
  async open ({ key }) {
    core = new Hypercore(path.join(root, 'core'), Buffer.from(key, 'hex'))
    await core.ready()
    return { ok: true }
  },
  async listen () {
    const server = net.createServer((socket) => {
      replicate(socket, false)
      server.close()
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { port: server.address().port }
  },
  async connect ({ port }) {
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    replicate(socket, true)
    return { ok: true }
  },
  async append ({ blocks }) {
    await core.append(blocks.map((b) => Buffer.from(b)))
    return { length: core.length }
  },
  async get ({ index, timeout }) {
    try {
      const v = await core.get(index, { timeout: timeout || 20000 })
      return { value: v === null ? null : v.toString() }
    } catch (err) {
      return { error: err.code || err.message }
    }
  },
  async update () {
    const updated = await core.update({ wait: true })
    return { updated, length: core.length }
  },
  async download ({ start, end }) {
    await core.download({ start, end }).done()
    return { ok: true }
  },
  async info () {
    return { length: core.length, contiguousLength: core.contiguousLength, fork: core.fork, peers: core.peers.length }
  },
  async truncate ({ length }) {
    await core.truncate(length)
    return { length: core.length, fork: core.fork }
  },
  async close () {
    for (const s of sockets) s.destroy()
    if (core) await core.close()
    fs.rmSync(root, { recursive: true, force: true })
    out({ ok: true })
    process.exit(0)
  }
}

serve(ops)
