// Serves hypercore 11's merkle tree to the Go tests of
// hypercore/internal/merkle: one JSON command per line on stdin, one JSON
// answer per line on stdout.
//
//   { op: 'create', name, seed, steps: [{ append: n, gen } | { truncate: length }], prologue? }
//       makes a core (key pair from 32 bytes of `seed`) in a temporary
//       folder and applies the steps (each append is one batch); with
//       prologue: P, its manifest fixes the first P blocks by tree hash.
//       Block i of generation gen is
//       block(i, gen) below. Answers the tree: key, fork, length,
//       byteLength, treeHash, signature, roots and every stored node.
//   { op: 'proofs', name, reqs: [{ block, hash, seek, upgrade }] }
//       answers each request as the replicator does: { data: hex of the wire
//       data message (request 0) } or { error: code }.
//   { op: 'verify', name, datas: [hex] }
//       verifies each data message against the core as core.verify does
//       (fork check, MerkleTree.verify, downgrade, signature), without
//       applying it: { ok, upgraded, fork, length, byteLength, treeHash,
//       roots, nodes } or { error: code }.
//   { op: 'seeks', name, offsets } answers core.seek(bytes, { wait: false })
//       for each offset: [block, offset] or null.
//   { op: 'reorg', name, from } starts a reorg of core `name` from a full
//       upgrade proof of core `from`, answers every want with hash proofs
//       of `from`, and reports the wants and the final ancestors.
//
// Nodes are { index, size, hash (hex) }.
const Hypercore = require('hypercore')
const crypto = require('hypercore-crypto')
const c = require('compact-encoding')
const messages = require('hypercore/lib/messages')
const { MerkleTree, ReorgBatch } = require('hypercore/lib/merkle-tree')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-merkle-'))
const cores = new Map()

function block(i, gen) {
  return Buffer.from(gen + ':' + i + ':' + 'x'.repeat((i * 7 + gen * 3) % 23))
}

function node(n) {
  return { index: n.index, size: n.size, hash: Buffer.from(n.hash).toString('hex') }
}

async function create({ name, seed, steps, prologue }) {
  const keyPair = crypto.keyPair(Buffer.alloc(32, seed))
  const opts = { keyPair }
  if (prologue) {
    // The prologue fixes the first `prologue` blocks of generation 0 by
    // their tree hash.
    const tmp = new Hypercore(path.join(root, name + '-prologue'), { keyPair })
    const blocks = []
    for (let i = 0; i < prologue; i++) blocks.push(block(i, 0))
    await tmp.append(blocks)
    const hash = await tmp.treeHash()
    await tmp.close()
    opts.manifest = { version: 1, signers: [{ publicKey: keyPair.publicKey }], prologue: { hash, length: prologue } }
  }
  const core = new Hypercore(path.join(root, name), opts)
  await core.ready()
  for (const s of steps) {
    if (s.append !== undefined) {
      const blocks = []
      for (let i = 0; i < s.append; i++) blocks.push(block(core.length + i, s.gen || 0))
      await core.append(blocks)
    } else {
      await core.truncate(s.truncate)
    }
  }
  cores.set(name, core)
  const nodes = []
  for (let i = 0; i < 2 * core.length; i++) {
    const n = await MerkleTree.get(core.state, i)
    if (n) nodes.push(node(n))
  }
  return {
    key: core.key.toString('hex'),
    fork: core.state.fork,
    length: core.state.length,
    byteLength: core.state.byteLength,
    treeHash: Buffer.from(await core.treeHash()).toString('hex'),
    signature: core.state.signature ? Buffer.from(core.state.signature).toString('hex') : '',
    roots: core.state.roots.map(node),
    nodes
  }
}

async function proofs({ name, reqs }) {
  const core = cores.get(name)
  const out = []
  for (const req of reqs) {
    try {
      // As the replicator does it: read batch flushed after the proof is
      // planned (core.proof flushes too early for seeks).
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
      const data = c.encode(messages.wire.data, { request: 0, ...p, manifest: null })
      out.push({ data: data.toString('hex') })
    } catch (err) {
      out.push({ error: err.code || err.name, message: err.message })
    }
  }
  return out
}

function batchInfo(batch) {
  return {
    ok: true,
    upgraded: batch.upgraded,
    fork: batch.fork,
    length: batch.length,
    byteLength: batch.byteLength,
    treeHash: Buffer.from(batch.hash()).toString('hex'),
    roots: batch.roots.map(node),
    nodes: batch.nodes.map(node)
  }
}

async function verify({ name, datas }) {
  const core = cores.get(name)
  const out = []
  for (const hex of datas) {
    try {
      const proof = c.decode(messages.wire.data, Buffer.from(hex, 'hex'))
      if (proof.fork !== core.state.fork) {
        out.push({ error: 'FORK_MISMATCH' })
        continue
      }
      const batch = await MerkleTree.verify(core.state, proof)
      if (batch.upgraded && batch.length <= core.state.length) await batch.downgrade()
      if (batch.upgraded) core.core._verifyBatchUpgrade(batch, proof.manifest)
      out.push(batchInfo(batch))
    } catch (err) {
      out.push({ error: err.code || err.name, message: err.message })
    }
  }
  return out
}

async function reorg({ name, from }) {
  const core = cores.get(name)
  const remote = cores.get(from)
  const p = await remote.proof({ upgrade: { start: 0, length: remote.length } })
  const proof = c.decode(messages.wire.data, c.encode(messages.wire.data, { request: 0, ...p, manifest: null }))
  const batch = new ReorgBatch(core.state)
  await MerkleTree.reorg(core.state, proof, batch)
  core.core._verifyBatchUpgrade(batch, null)
  const wants = []
  while (batch.want !== null) {
    const w = { start: batch.want.start, end: batch.want.end, nodes: batch.want.nodes }
    wants.push(w)
    const hp = await remote.proof({ hash: { index: 2 * w.start, nodes: w.nodes } })
    const data = c.decode(messages.wire.data, c.encode(messages.wire.data, { request: 0, ...hp, manifest: null }))
    const done = await batch.update(data)
    if (!done && batch.want !== null && batch.want.start === w.start && batch.want.end === w.end) {
      return { error: 'STUCK', wants }
    }
  }
  return { wants, ancestors: batch.ancestors, length: batch.length, fork: batch.fork, nodes: batch.nodes.length }
}

async function seeks({ name, offsets }) {
  const core = cores.get(name)
  const out = []
  for (const bytes of offsets) out.push(await core.seek(bytes, { wait: false }))
  return out
}

const ops = { create, proofs, verify, reorg, seeks }

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
  fs.rmSync(root, { recursive: true, force: true })
  process.exit(1)
})
