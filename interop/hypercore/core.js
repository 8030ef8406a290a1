// Real hypercore 11 cores for the Go tests of package hypercore
// (hypercore/core_interop_test.go): one JSON command per line on stdin,
// one JSON answer per line on stdout. Byte values are hex.
//
//   { op: 'create', name, seed, encryptionKey?, steps: [{ append: [hex] } | { truncate: length }] }
//       a writable core (key pair from 32 bytes of `seed`) in a temporary
//       folder, with the steps applied (each append one batch); answers
//       its state (below).
//   { op: 'reader', name, key, encryptionKey? }
//       a core opened from its key alone; answers its state.
//   { op: 'state', name }
//       { key, discoveryKey, fork, length, byteLength, treeHash, signature,
//         manifest, blocks: [hex of get(i, { raw: true }), or null] ,
//         plain: [hex of get(i), or null] }
//   { op: 'seeks', name, offsets } answers seek(bytes, { wait: false }) for
//       each offset: [block, offset] or null.
//   { op: 'proof', name, req: { block: { index, nodes }, upgrade, manifest } }
//       the data message the replicator would send for the request
//       (request id 0, with the manifest when asked): { data } or { error }.
//   { op: 'request', name, index, remoteLength }
//       the request the core would send for block `index` to a peer of
//       length remoteLength: { block: { index, nodes }, upgrade, manifest }.
//   { op: 'apply', name, data } verifies and applies a data message as the
//       replicator does (core.verify): { ok } or { error }.
const Hypercore = require('hypercore')
const crypto = require('hypercore-crypto')
const c = require('compact-encoding')
const messages = require('hypercore/lib/messages')
const { MerkleTree } = require('hypercore/lib/merkle-tree')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-core-'))
const cores = new Map()
const hex = (b) => (b ? Buffer.from(b).toString('hex') : null)
const buf = (h) => Buffer.from(h, 'hex')

async function create({ name, seed, encryptionKey, steps }) {
  const opts = { keyPair: crypto.keyPair(Buffer.alloc(32, seed)) }
  if (encryptionKey) opts.encryption = { key: buf(encryptionKey) }
  const core = new Hypercore(path.join(root, name), opts)
  await core.ready()
  for (const s of steps || []) {
    if (s.append) await core.append(s.append.map(buf))
    else await core.truncate(s.truncate)
  }
  cores.set(name, core)
  return state({ name })
}

async function reader({ name, key, encryptionKey }) {
  const opts = {}
  if (encryptionKey) opts.encryption = { key: buf(encryptionKey) }
  const core = new Hypercore(path.join(root, name), buf(key), opts)
  await core.ready()
  cores.set(name, core)
  return state({ name })
}

async function state({ name }) {
  const core = cores.get(name)
  const blocks = []
  const plain = []
  for (let i = 0; i < core.length; i++) {
    if (!(await core.has(i))) {
      blocks.push(null)
      plain.push(null)
      continue
    }
    blocks.push(hex(await core.get(i, { raw: true, wait: false })))
    plain.push(core.encryption && !core.manifest ? null : hex(await core.get(i, { wait: false })))
  }
  return {
    key: hex(core.key),
    discoveryKey: hex(core.discoveryKey),
    fork: core.fork,
    length: core.length,
    byteLength: core.byteLength,
    treeHash: hex(await core.treeHash()),
    signature: hex(core.core.state.signature),
    manifest: core.manifest ? hex(core.getManifest({ raw: true })) : null,
    blocks,
    plain
  }
}

async function seeks({ name, offsets }) {
  const core = cores.get(name)
  const out = []
  for (const bytes of offsets) out.push(await core.seek(bytes, { wait: false }))
  return out
}

async function proof({ name, req }) {
  const core = cores.get(name)
  try {
    const rx = core.state.storage.read()
    const blockPromise = req.block ? rx.getBlock(req.block.index) : null
    let tp
    try {
      tp = await MerkleTree.proof(core.state, rx, req)
    } finally {
      rx.tryFlush()
    }
    const p = await tp.settle()
    if (p.block) p.block.value = await blockPromise
    const manifest = req.manifest ? core.core.header.manifest : null
    return { data: hex(c.encode(messages.wire.data, { request: 0, ...p, manifest })) }
  } catch (err) {
    return { error: err.code || err.name, message: err.message }
  }
}

async function request({ name, index, remoteLength }) {
  const core = cores.get(name)
  const length = core.core.state.length
  const req = {
    block: { index, nodes: await MerkleTree.missingNodes(core.core.state, 2 * index, length) },
    upgrade: null,
    manifest: !core.core.header.manifest
  }
  if (remoteLength > length) req.upgrade = { start: length, length: remoteLength - length }
  return req
}

async function apply({ name, data }) {
  const core = cores.get(name)
  try {
    const p = c.decode(messages.wire.data, buf(data))
    const ok = await core.core.verify(p, null)
    return { ok }
  } catch (err) {
    return { error: err.code || err.name, message: err.message }
  }
}

const ops = { create, reader, state, seeks, proof, request, apply }

async function main() {
  const rl = readline.createInterface({ input: process.stdin })
  for await (const line of rl) {
    if (!line.trim()) continue
    const cmd = JSON.parse(line)
    let res
    try {
      res = await ops[cmd.op](cmd)
    } catch (err) {
      res = { error: err.code || err.name, message: err.stack }
    }
    process.stdout.write(JSON.stringify(res) + '\n')
  }
  for (const core of cores.values()) await core.close()
  fs.rmSync(root, { recursive: true, force: true })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
