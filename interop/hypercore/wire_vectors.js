// Prints a JSON array of hypercore wire vectors made by the JS reference:
// each { type, hex, value } where hex is c.encode(codec, input) and value
// describes c.decode(codec, hex); plus hand-made inputs (non-canonical or
// invalid) with JS's verdict on them. The Go test decodes each vector,
// compares, and re-encodes byte for byte.
const { c, codecs, tryDecode } = require('./wire_common.js')
const crypto = require('hypercore-crypto')

let seed = 1
function bytes(n) {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648
    b[i] = seed >> 16
  }
  return b
}
const hash = () => bytes(32)
const edges = [0, 1, 0xfc, 0xfd, 0xffff, 0x10000, 0xffffffff, 2 ** 32, 2 ** 53 - 1]
let e = 0
const edge = () => edges[e++ % edges.length]
const nodes = (n) => Array.from({ length: n }, (_, i) => ({ index: i % 3 === 0 ? edge() : i, size: edge(), hash: hash() }))

const out = []
function add(type, value) {
  const hex = c.encode(codecs[type], value).toString('hex')
  const r = tryDecode(type, hex)
  if (!r.ok) throw new Error(type + ': ' + r.error)
  out.push({ type, hex, value: r.value, reencoded: r.hex })
}
// raw adds a hand-made encoding with JS's verdict (ok, value, re-encoding).
function raw(type, hex) {
  const r = tryDecode(type, hex)
  out.push({ type, hex, raw: true, ok: r.ok, value: r.value || null, reencoded: r.hex || null })
}

for (const seeks of [false, true]) add('handshake', { seeks, capability: hash() })

for (let flags = 0; flags < 32; flags++) {
  add('sync', {
    fork: edge(), length: edge(), remoteLength: edge(),
    canUpgrade: !!(flags & 1), uploading: !!(flags & 2), downloading: !!(flags & 4),
    hasManifest: !!(flags & 8), allowPush: !!(flags & 16)
  })
}

for (let flags = 0; flags < 64; flags++) {
  add('request', {
    id: edge(), fork: edge(),
    block: flags & 1 ? { index: edge(), nodes: edge() } : null,
    hash: flags & 2 ? { index: edge(), nodes: edge() } : null,
    seek: flags & 4 ? { bytes: edge(), padding: edge() } : null,
    upgrade: flags & 8 ? { start: edge(), length: edge() } : null,
    manifest: !!(flags & 16),
    priority: flags & 32 ? 1 + (flags % 3) * 1000 : 0
  })
}

for (const v of edges) add('cancel', { request: v })

const manifests = []
const signer = (ns) => ({ signature: 'ed25519', namespace: ns || hash(), publicKey: hash() })
manifests.push({ version: 1, hash: 'blake2b', allowPatch: false, quorum: 1, signers: [signer()], prologue: null, linked: null, userData: null })
manifests.push({ version: 1, hash: 'blake2b', allowPatch: true, quorum: 2, signers: [signer(), signer(), signer()], prologue: { hash: hash(), length: 0xffff }, linked: null, userData: null })
manifests.push({ version: 1, hash: 'blake2b', allowPatch: false, quorum: 0, signers: [], prologue: { hash: hash(), length: 5 }, linked: null, userData: null })
manifests.push({ version: 2, hash: 'blake2b', allowPatch: false, quorum: 1, signers: [signer()], prologue: null, linked: [hash(), hash()], userData: bytes(300) })
manifests.push({ version: 2, hash: 'blake2b', allowPatch: false, quorum: 1, signers: [signer()], prologue: null, linked: [], userData: Buffer.alloc(0) })
manifests.push({ version: 3, hash: 'blake2b', allowPatch: true, quorum: 1, signers: [signer()], prologue: null, linked: null, userData: bytes(3) })
manifests.push({ version: 0, hash: 'blake2b', allowPatch: false, quorum: 0, signers: [], prologue: { hash: hash(), length: 0 }, linked: null, userData: null })
manifests.push({ version: 0, hash: 'blake2b', allowPatch: false, quorum: 1, signers: [signer()], prologue: null, linked: null, userData: null })
manifests.push({ version: 0, hash: 'blake2b', allowPatch: true, quorum: 1, signers: [signer(), signer()], prologue: null, linked: null, userData: null })
manifests.push({ version: 0, hash: 'blake2b', allowPatch: false, quorum: 2, signers: [signer(), signer()], prologue: null, linked: null, userData: null })
manifests.push({ version: 0, hash: 'blake2b', allowPatch: false, quorum: 0, signers: [], prologue: null, linked: null, userData: null })
for (const man of manifests) add('manifest', man)

for (let flags = 0; flags < 32; flags++) {
  const n = flags % 4 === 3 ? 40 : flags % 4
  add('data', {
    request: edge(), fork: edge(),
    block: flags & 1 ? { index: edge(), value: bytes(flags === 31 ? 70000 : flags), nodes: nodes(n) } : null,
    hash: flags & 2 ? { index: edge(), nodes: nodes(n + 1) } : null,
    seek: flags & 4 ? { bytes: edge(), nodes: nodes(n) } : null,
    upgrade: flags & 8 ? { start: edge(), length: edge(), nodes: nodes(n), additionalNodes: nodes(flags % 3), signature: flags % 2 ? bytes(68) : null } : null,
    manifest: flags & 16 ? manifests[flags % manifests.length] : null
  })
}
add('data', { request: 1, fork: 0, block: { index: 0, value: Buffer.alloc(0), nodes: nodes(2000) }, hash: null, seek: null, upgrade: null, manifest: null })

for (const reason of [0, 1, 2, 300]) add('noData', { request: edge(), reason })
for (const type of ['want', 'unwant']) {
  for (const any of [false, true]) {
    add(type, { start: 0, length: 2097152, any })
    add(type, { start: 2 ** 53 - 1, length: 0xffffffff, any })
  }
}
add('bitfield', { start: 0, bitfield: new Uint32Array(0) })
add('bitfield', { start: 32, bitfield: new Uint32Array([1, 0x80000000, 0xffffffff, 0]) })
add('bitfield', { start: 2097152, bitfield: new Uint32Array(Array.from({ length: 65536 }, (_, i) => (i * 2654435761) >>> 0)) })
for (const drop of [false, true]) {
  for (const length of [0, 1, 2, 0xfd, 2 ** 40]) add('range', { drop, start: edge(), length })
}
add('extension', { name: 'hyperbee', message: bytes(10) })
add('extension', { name: '', message: Buffer.alloc(0) })
add('extension', { name: 'héllo ✓', message: bytes(300) })
add('reorgHint', { from: 1, to: 0xfd, ancestors: 2 ** 53 - 1 })

add('multiSignature', { proofs: [{ signer: 0, signature: bytes(64), patch: 0 }], patch: [] })
add('multiSignature', { proofs: [{ signer: 0, signature: bytes(64), patch: 0 }, { signer: 300, signature: bytes(64), patch: 7 }], patch: nodes(5) })
add('multiSignature', { proofs: [], patch: [] })
add('multiSignaturev0', { proofs: [{ signer: 0, signature: bytes(64), patch: null }], patch: [] })
add('multiSignaturev0', { proofs: [{ signer: 1, signature: bytes(64), patch: { start: 3, length: 2, nodes: [0, 1, 300] } }, { signer: 0, signature: bytes(64), patch: null }], patch: nodes(3) })

// Hand-made inputs: non-canonical forms JS accepts, and invalid ones.
raw('range', '000501') // length 1 written out
raw('range', '020a') // length 1 by flag
raw('noData', '07') // flags absent
raw('noData', '0701') // flag without reason: reading past the end
raw('noData', '070100') // flag with reason 0
raw('want', '0102') // flags absent
raw('want', '010203') // unknown flag bits
raw('request', '200102') // priority flag with no value
raw('request', '2001020000') // priority 0 written out
raw('request', 'c0010203') // unknown flag bits
raw('request', 'fd0100010203') // non-minimal flags
raw('sync', 'ff01020304') // all flag bits
raw('cancel', 'ff0000000000002000') // 2^53: unsafe
raw('cancel', 'ffffffffffffff1f00') // 2^53-1
raw('cancel', '')
raw('handshake', '01' + '00'.repeat(31)) // short capability
raw('extension', '02c328ff') // invalid UTF-8 name
raw('extension', '05') // name past the end
raw('bitfield', '0002' + '01000000') // one word short
raw('bitfield', '00fe01001000') // huge count
raw('data', '0101') // truncated
raw('data', '010100000000') // block with empty value, no nodes
raw('data', '0101000000fe01001000') // node count above the array limit
raw('data', '01010000000101' + '00'.repeat(33)) // node short by a byte
raw('data', '080100000000000000') // upgrade, zero-length signature (null)
raw('data', '10010004') // manifest version 4
raw('manifest', '04')
raw('manifest', '0100010000') // hash id 1
raw('manifest', '010000000101' + '00'.repeat(64)) // signature id 1
raw('manifest', '000003') // v0 type 3
raw('manifest', '00000201020000') // v0 type 2, 0 signers
raw('manifest', '0000020001' + '0100' + '11'.repeat(64)) // v0 type 2 that re-encodes as type 1
raw('manifest', '01f0000000') // unknown manifest flag bits
raw('manifest', '0104000000fe01001000') // linked count above the limit
raw('manifest', '0108000000') // userData flag, nothing after
raw('multiSignature', '01') // proof count without proofs
raw('multiSignaturev0', '010200' + '00'.repeat(64) + '0102fe00001000') // patch refs above the limit

console.log(JSON.stringify(out))
