// Answers a JSON array of operations on stdin with a JSON array of results,
// computed by hypercore's own caps.js, verifier.js and multisig.js (and real
// cores in a temporary folder where a tree is needed). Byte values are hex.
//
//   { op: 'namespaces' }                               -> { tree, initiator, responder, manifest, defaultNamespace, encryption }
//   { op: 'manifest', manifest }                       -> { ok, hex, hash } or { ok: false, error }  (createManifest input)
//   { op: 'decodeManifest', hex }                      -> { ok, hash, reencoded }
//   { op: 'capability', initiator, key, handshakeHash } -> { hex }
//   { op: 'signable', ctx, treeHash, length, fork }    -> { hex }
//   { op: 'signableCompat', treeHash, length, fork, legacy } -> { hex }
//   { op: 'sign', key, manifest, seed, legacy, tree }  -> { hex }       (tree: { fork, length, roots })
//   { op: 'verify', key, manifest, legacy, tree, signature } -> { ok }
//   { op: 'core', seed, blocks }                       -> { key, discoveryKey, treeHash, signature, manifest }
//   { op: 'patch', manifest, seeds, blocks, verifiedLength, signedLengths } -> { key, signature, ok, partials }
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')
const caps = require('hypercore/lib/caps.js')
const Verifier = require('hypercore/lib/verifier.js')
const multisig = require('hypercore/lib/multisig.js')

const hex = (b) => (b ? Buffer.from(b).toString('hex') : null)
const buf = (h) => (h === null || h === undefined ? h : Buffer.from(h, 'hex'))
const kp = (seed) => crypto.keyPair(buf(seed))

// manifestInput turns the Go JSON form into createManifest's input.
function manifestInput(m) {
  const inp = { allowPatch: !!m.allowPatch }
  if (m.version !== undefined && m.version !== null) inp.version = m.version
  if (m.quorum !== undefined && m.quorum !== null) inp.quorum = m.quorum
  inp.signers = (m.signers || []).map((s) => ({ namespace: buf(s.namespace) || undefined, publicKey: buf(s.publicKey) }))
  if (m.prologue) inp.prologue = { hash: buf(m.prologue.hash), length: m.prologue.length }
  if (m.linked) inp.linked = m.linked.map(buf)
  if (m.userData !== undefined && m.userData !== null) inp.userData = buf(m.userData)
  return inp
}

// batch is enough of a MerkleTreeBatch for signing and unpatched checks.
function batch(t) {
  const roots = t.roots.map((r) => ({ index: r.index, size: r.size, hash: buf(r.hash) }))
  return {
    fork: t.fork,
    length: t.length,
    roots,
    hash: () => crypto.tree(roots),
    signable(ctx) { return caps.treeSignable(ctx, this.hash(), this.length, this.fork) },
    signableCompat(noHeader) { return caps.treeSignableCompat(this.hash(), this.length, this.fork, noHeader) }
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-hc-'))
let n = 0
async function makeCore(keyPair, blocks) {
  const core = new Hypercore(path.join(tmp, String(n++)), { keyPair })
  await core.ready()
  if (blocks.length) await core.append(blocks.map((b) => Buffer.from(b)))
  return core
}

async function run(o) {
  switch (o.op) {
    case 'namespaces': {
      const [tree, initiator, responder, manifest, def, enc] = crypto.namespace('hypercore', 6)
      if (!def.equals(caps.DEFAULT_NAMESPACE) || !manifest.equals(caps.MANIFEST) || !enc.equals(caps.DEFAULT_ENCRYPTION)) throw new Error('caps mismatch')
      return { tree: hex(tree), initiator: hex(initiator), responder: hex(responder), manifest: hex(manifest), defaultNamespace: hex(def), encryption: hex(enc) }
    }
    case 'manifest': {
      let m
      try {
        m = Verifier.createManifest(manifestInput(o.manifest))
      } catch (err) {
        return { ok: false, error: err.message }
      }
      return { ok: true, hex: hex(Verifier.encodeManifest(m)), hash: hex(Verifier.manifestHash(m)) }
    }
    case 'decodeManifest': {
      const m = Verifier.decodeManifest(buf(o.hex))
      return { ok: true, hash: hex(Verifier.manifestHash(m)), reencoded: hex(Verifier.encodeManifest(m)) }
    }
    case 'capability':
      return { hex: hex(caps.replicate(o.initiator, buf(o.key), buf(o.handshakeHash))) }
    case 'signable':
      return { hex: hex(caps.treeSignable(buf(o.ctx), buf(o.treeHash), o.length, o.fork)) }
    case 'signableCompat':
      return { hex: hex(caps.treeSignableCompat(buf(o.treeHash), o.length, o.fork, o.legacy)) }
    case 'sign': {
      const v = new Verifier(buf(o.key), Verifier.createManifest(manifestInput(o.manifest)), { legacy: !!o.legacy })
      return { hex: hex(v.sign(batch(o.tree), kp(o.seed))) }
    }
    case 'verify': {
      const v = new Verifier(buf(o.key), Verifier.createManifest(manifestInput(o.manifest)), { legacy: !!o.legacy })
      try {
        return { ok: v.verify(batch(o.tree), buf(o.signature)) }
      } catch (err) {
        return { ok: false, error: err.message }
      }
    }
    case 'core': {
      const core = await makeCore(kp(o.seed), o.blocks)
      const out = {
        key: hex(core.key),
        discoveryKey: hex(core.discoveryKey),
        treeHash: hex(await core.treeHash()),
        signature: hex(core.core.state.signature),
        manifest: hex(Verifier.encodeManifest(core.manifest))
      }
      await core.close()
      return out
    }
    case 'patch': {
      const man = Verifier.createManifest(manifestInput(o.manifest))
      const key = Verifier.manifestHash(man)
      const v = new Verifier(key, man)
      const full = await makeCore(crypto.keyPair(), o.blocks)
      const partials = []
      for (let i = 0; i < o.seeds.length; i++) {
        const len = o.signedLengths[i]
        const ctx = man.version === 0 ? man.signers[i].namespace : key
        const sig = crypto.sign(caps.treeSignable(ctx, await full.treeHash(len), len, 0), kp(o.seeds[i]).secretKey)
        partials.push(await multisig.partialSignature(full, i, o.verifiedLength, len, sig))
      }
      const signature = v.assemble(partials)
      const short = await makeCore(crypto.keyPair(), o.blocks.slice(0, o.verifiedLength))
      const b = short.state.createTreeBatch()
      let ok
      try {
        ok = v.verify(b, signature)
      } catch (err) {
        ok = 'threw: ' + err.message
      }
      await full.close()
      await short.close()
      return {
        key: hex(key),
        signature: hex(signature),
        ok,
        partials: partials.map((p) => ({ signer: p.signer, signature: hex(p.signature), patch: p.patch, nodes: (p.nodes || []).map((x) => ({ index: x.index, size: x.size, hash: hex(x.hash) })) }))
      }
    }
  }
  throw new Error('unknown op ' + o.op)
}

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', async () => {
  const out = []
  try {
    for (const o of JSON.parse(input)) out.push(await run(o))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  console.log(JSON.stringify(out))
})
