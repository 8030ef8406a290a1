// A JS hypercore peer for the Go extension and peer-event interop tests
// (hypercore/extension_interop_test.go), over TCP on 127.0.0.1 with
// hypercore's own replication stream (secret-stream + protomux), driven by
// one JSON command per line on stdin; one JSON answer per line on stdout.
// Keys are hex; extension messages are UTF-8 strings.
//
//   { op: 'open', key }               empty core from a key: { ok }
//   { op: 'register', name, raw }     core.registerExtension(name), with
//                                     the default encoding (c.buffer) or,
//                                     with raw, c.raw; its messages become
//                                     events: { ok }
//   { op: 'destroy', name }           extension.destroy(): { ok }
//   { op: 'listen' }                  replicate with every TCP client, as
//                                     the stream responder: { port }
//   { op: 'connect', port }           dial and replicate as the initiator:
//                                     { publicKey, remotePublicKey } once
//                                     the secret stream is open
//   { op: 'broadcast', name, message }  extension.broadcast: { ok }
//   { op: 'send', name, message, to }   extension.send to the peer whose
//                                     remotePublicKey is `to`: { ok }
//   { op: 'peers' }                   { peers: [remotePublicKey] } (core.peers)
//   { op: 'events', count, settle }   waits for `count` events, then
//                                     `settle` ms more, and returns (and
//                                     forgets) every event so far:
//                                     { events: [{ type: 'peer-add' |
//                                     'peer-remove', remotePublicKey } |
//                                     { type: 'message', name, message, from }] }
//   { op: 'disconnect' }              destroys every connection: { ok }
//   { op: 'close' }                   closes everything, exits
const Hypercore = require('hypercore')
const c = require('compact-encoding')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-extension-'))
const { out, serve } = require('../lib/commands.js')
const hex = (b) => b.toString('hex')
let core = null
const sockets = []
const extensions = new Map()
const servers = []

let events = []
let onevent = null
function push(ev) {
  events.push(ev)
  if (onevent) onevent()
}

function replicate(socket, isInitiator) {
  sockets.push(socket)
  const s = core.replicate(isInitiator, { keepAlive: false })
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
  return s
}

function findPeer(key) {
  const peer = core.peers.find((p) => hex(p.remotePublicKey) === key)
  if (!peer) throw new Error('no peer ' + key)
  return peer
}

const ops = {
  async open({ key }) {
    core = new Hypercore(path.join(root, 'core'), Buffer.from(key, 'hex'))
    await core.ready()
    core.on('peer-add', (peer) => push({ type: 'peer-add', remotePublicKey: hex(peer.remotePublicKey) }))
    core.on('peer-remove', (peer) => push({ type: 'peer-remove', remotePublicKey: hex(peer.remotePublicKey) }))
    return { ok: true }
  },
  async register({ name, raw }) {
    const ext = core.registerExtension(name, {
      encoding: raw ? c.raw : undefined,
      onmessage: (message, peer) =>
        push({ type: 'message', name, message: message.toString(), from: hex(peer.remotePublicKey) })
    })
    extensions.set(name, ext)
    return { ok: true }
  },
  async destroy({ name }) {
    extensions.get(name).destroy()
    extensions.delete(name)
    return { ok: true }
  },
  async listen() {
    const server = net.createServer((socket) => replicate(socket, false))
    servers.push(server)
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { port: server.address().port }
  },
  async connect({ port }) {
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const s = replicate(socket, true)
    await s.noiseStream.opened
    return { publicKey: hex(s.noiseStream.publicKey), remotePublicKey: hex(s.noiseStream.remotePublicKey) }
  },
  async broadcast({ name, message }) {
    extensions.get(name).broadcast(Buffer.from(message))
    return { ok: true }
  },
  async send({ name, message, to }) {
    extensions.get(name).send(Buffer.from(message), findPeer(to))
    return { ok: true }
  },
  async peers() {
    return { peers: core.peers.map((p) => hex(p.remotePublicKey)) }
  },
  async events({ count, settle }) {
    const deadline = Date.now() + 20000
    while (events.length < count && Date.now() < deadline) {
      await new Promise((resolve) => {
        onevent = resolve
        setTimeout(resolve, 100)
      })
      onevent = null
    }
    if (settle) await new Promise((resolve) => setTimeout(resolve, settle))
    const got = events
    events = []
    return { events: got }
  },
  async disconnect() {
    for (const s of sockets) s.destroy()
    sockets.length = 0
    return { ok: true }
  },
  async close() {
    for (const s of sockets) s.destroy()
    for (const s of servers) s.close()
    if (core) await core.close()
    fs.rmSync(root, { recursive: true, force: true })
    out({ ok: true })
    process.exit(0)
  }
}

serve(ops)
