// A JS hypercore 11 peer for the Core-level replication interop tests of
// package hypercore (hypercore/interop_replicate_test.go): one real core,
// replicated over TCP on 127.0.0.1 with core.replicate(isInitiator) (secret
// stream + protomux), driven by one JSON command per line on stdin; one JSON
// answer per line on stdout. Block values are hex.
//
//   { op: 'create', seed, blocks, encryptionKey?, prologue?, userData?, signers? }
//       a writable core (key pair from 32 bytes of `seed`) with `blocks`
//       appended. With prologue n, the manifest has a prologue fixing the
//       first n blocks (appended as one batch first); with userData (hex)
//       it is a version 2 manifest carrying it. With signers (a list of
//       seeds), the manifest has those signers and a quorum of all of them,
//       and every append is signed by each and assembled into a multisig:
//       { key, discoveryKey, length, fork, manifest }
//   { op: 'open', key, encryptionKey? }   an empty core from its key: { ok }
//   { op: 'listen' }                      replicate with every TCP client, as
//                                         the stream responder: { port }
//   { op: 'connect', port }               dial and replicate as the initiator
//   { op: 'append', blocks }              { length }
//   { op: 'get', index, timeout? }        { value } or { error }
//   { op: 'tail', start, end, timeout? }  gets start..end-1 in order, each
//                                         waiting for it: { values } or { error }
//   { op: 'update' }                      core.update({ wait: true })
//   { op: 'download', start, end }        core.download(...).done()
//   { op: 'waitFor', fork, length, timeout? } until the core is at that fork
//                                         and length (updating): { ok } or { error }
//   { op: 'truncate', length }            { length, fork }
//   { op: 'info' }                        { length, contiguousLength, fork,
//                                           byteLength, treeHash, peers,
//                                           uploads, downloads }
//   { op: 'close' }                       closes everything, exits
const Hypercore = require('hypercore')
const crypto = require('hypercore-crypto')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-peer-'))
const { out, serve } = require('../lib/commands.js')
const hex = (b) => (b ? Buffer.from(b).toString('hex') : null)
const buf = (h) => Buffer.from(h, 'hex')
let core = null
let signers = null // key pairs of a multisig core
let uploads = 0
let downloads = 0
const sockets = []
const servers = []

function track (c) {
  c.on('upload', () => { uploads++ })
  c.on('download', () => { downloads++ })
}

function replicate (socket, isInitiator) {
  sockets.push(socket)
  const s = core.replicate(isInitiator, { keepAlive: false })
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
  return s
}

function encryption (encryptionKey) {
  return encryptionKey ? { encryption: { key: buf(encryptionKey) } } : {}
}

// appendValues appends values as one batch, with the assembled signature of
// every signer on a multisig core.
async function appendValues (values) {
  if (!signers) return core.append(values)
  const batch = core.state.createTreeBatch()
  for (const v of values) batch.append(v)
  const signable = batch.signable(core.key)
  const signature = core.core.verifier.assemble(signers.map((kp, i) => (
    { signer: i, signature: crypto.sign(signable, kp.secretKey), patch: 0, nodes: null })))
  return core.append(values, { signature })
}

const ops = {
  async create ({ seed, blocks, encryptionKey, prologue, userData, signers: seeds }) {
    const keyPair = crypto.keyPair(Buffer.alloc(32, seed))
    const opts = { keyPair, ...encryption(encryptionKey) }
    const values = (blocks || []).map(buf)
    if (seeds) {
      signers = seeds.map((s) => crypto.keyPair(Buffer.alloc(32, s)))
      delete opts.keyPair
      opts.manifest = { quorum: signers.length, signers: signers.map((kp) => ({ publicKey: kp.publicKey })) }
    } else if (prologue || userData) {
      const manifest = { version: userData ? 2 : 1, signers: [{ publicKey: keyPair.publicKey }] }
      if (userData) manifest.userData = buf(userData)
      if (prologue) {
        // The prologue's hash is the tree hash of its blocks, taken from a
        // scratch core (tree hashes do not depend on the manifest).
        const scratch = new Hypercore(path.join(root, 'scratch'), { keyPair })
        await scratch.ready()
        await scratch.append(values.slice(0, prologue))
        manifest.prologue = { hash: await scratch.treeHash(), length: prologue }
        await scratch.close()
      }
      opts.manifest = manifest
    }
    core = new Hypercore(path.join(root, 'core'), opts)
    track(core)
    await core.ready()
    if (prologue) {
      await appendValues(values.slice(0, prologue))
      if (values.length > prologue) await appendValues(values.slice(prologue))
    } else if (values.length) {
      await appendValues(values)
    }
    return {
      key: hex(core.key),
      discoveryKey: hex(core.discoveryKey),
      length: core.length,
      fork: core.fork,
      manifest: hex(core.getManifest({ raw: true }))
    }
  },
  async open ({ key, encryptionKey }) {
    core = new Hypercore(path.join(root, 'core'), buf(key), encryption(encryptionKey))
    track(core)
    await core.ready()
    return { ok: true }
  },
  async listen () {
    const server = net.createServer((socket) => replicate(socket, false))
    servers.push(server)
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
    await appendValues(blocks.map(buf))
    return { length: core.length }
  },
  async get ({ index, timeout }) {
    try {
      const v = await core.get(index, { timeout: timeout || 15000 })
      return { value: hex(v) }
    } catch (err) {
      return { error: err.code || err.message }
    }
  },
  async tail ({ start, end, timeout }) {
    const values = []
    try {
      for (let i = start; i < end; i++) values.push(hex(await core.get(i, { timeout: timeout || 15000 })))
    } catch (err) {
      return { error: err.code || err.message, values }
    }
    return { values }
  },
  async update () {
    const updated = await core.update({ wait: true })
    return { updated, length: core.length, fork: core.fork }
  },
  async download ({ start, end }) {
    await core.download({ start, end }).done()
    return { ok: true }
  },
  async waitFor ({ fork, length, timeout }) {
    const deadline = Date.now() + (timeout || 15000)
    while (core.fork !== fork || core.length !== length) {
      if (Date.now() > deadline) return { error: 'timeout', fork: core.fork, length: core.length }
      await core.update({ wait: true }).catch(() => {})
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return { ok: true }
  },
  async truncate ({ length }) {
    await core.truncate(length)
    return { length: core.length, fork: core.fork }
  },
  async info () {
    return {
      length: core.length,
      contiguousLength: core.contiguousLength,
      fork: core.fork,
      byteLength: core.byteLength,
      treeHash: hex(await core.treeHash()),
      peers: core.peers.length,
      uploads,
      downloads
    }
  },
  async close () {
    for (const s of sockets) s.destroy()
    for (const s of servers) s.close()
    if (core) await core.close()
    fs.rmSync(root, { recursive: true, force: true })
    out({ ok: true })
    process.exit(0)
  }
}

serve(ops)
