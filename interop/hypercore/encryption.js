// Block encryption vectors for hypercore/encryption_test.go, made by
// hypercore 11's own lib/default-encryption.js and by real encrypted cores.
//
// stdin: one JSON object
//   {
//     cores: [{ seed, encryptionKey, mode, steps }],
//       seed: hex of the 32-byte key pair seed; encryptionKey: hex;
//       mode: 'default' | 'compat' (a compat core, key = public key) |
//             'block' (encryptionKey is the block key: { block: true });
//       steps: [{ append: [hex blocks] } | { truncate: length }]
//     vectors: [{ blockKey, index, fork, plain }]
//   }
// stdout: one JSON object
//   {
//     cores: [{ key, compat, fork, length, byteLength, blockKey, blindingKey,
//               blocks: [{ index, fork, plain, raw, sent, node }] }],
//       raw: the stored block, core.get(i, { raw: true });
//       sent: the same block as a reader without the encryption key got it
//             over replication; node: the tree leaf { index, size, hash }
//     vectors: [{ cipher }]  (DefaultEncryption.encrypt with deriveKeys(blockKey, null, { block: true }))
//   }
// Byte values are hex. The temporary folder is removed before exiting.
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')
const DefaultEncryption = require('hypercore/lib/default-encryption.js')
const { MerkleTree } = require('hypercore/lib/merkle-tree')

const hex = (b) => Buffer.from(b).toString('hex')
const buf = (h) => Buffer.from(h, 'hex')

async function runCore(dir, { seed, encryptionKey, mode, steps }) {
  const keyPair = crypto.keyPair(buf(seed))
  const encryption = { key: buf(encryptionKey) }
  const opts = { keyPair, encryption }
  if (mode === 'compat') opts.compat = true
  if (mode === 'block') encryption.block = true

  const core = new Hypercore(path.join(dir, 'writer'), opts)
  await core.ready()

  // forks[i] is the fork block i was appended in: the fork encrypt() got.
  const forks = []
  const plain = []
  for (const s of steps) {
    if (s.append) {
      for (const b of s.append) {
        forks.push(core.fork)
        plain.push(b)
      }
      await core.append(s.append.map(buf))
    } else {
      await core.truncate(s.truncate)
      forks.length = plain.length = s.truncate
    }
  }

  // A reader without the encryption key gets the blocks as they are sent.
  const reader = new Hypercore(path.join(dir, 'reader'), core.key)
  await reader.ready()
  const a = core.replicate(true)
  const b = reader.replicate(false)
  a.pipe(b).pipe(a)

  const blocks = []
  for (let i = 0; i < core.length; i++) {
    const raw = await core.get(i, { raw: true })
    const dec = await core.get(i)
    if (hex(dec) !== plain[i]) throw new Error('block ' + i + ' does not decrypt to what was appended')
    const sent = await reader.get(i)
    const node = await MerkleTree.get(core.state, 2 * i)
    blocks.push({
      index: i,
      fork: forks[i],
      plain: plain[i],
      raw: hex(raw),
      sent: hex(sent),
      node: { index: node.index, size: node.size, hash: hex(node.hash) }
    })
  }

  const out = {
    key: hex(core.key),
    compat: core.core.compat,
    fork: core.fork,
    length: core.length,
    byteLength: core.byteLength,
    blockKey: hex(core.encryption.blockKey),
    blindingKey: hex(core.encryption.blindingKey),
    blocks
  }

  a.destroy()
  b.destroy()
  await reader.close()
  await core.close()
  return out
}

function vector({ blockKey, index, fork, plain }) {
  const keys = DefaultEncryption.deriveKeys(buf(blockKey), null, { block: true })
  const block = Buffer.concat([Buffer.alloc(DefaultEncryption.PADDING), buf(plain)])
  DefaultEncryption.encrypt(index, block, fork, keys.block, keys.blinding)
  return { cipher: hex(block) }
}

async function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'))
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-encryption-'))
  try {
    const cores = []
    for (let i = 0; i < (input.cores || []).length; i++) {
      cores.push(await runCore(path.join(root, String(i)), input.cores[i]))
    }
    const vectors = (input.vectors || []).map(vector)
    process.stdout.write(JSON.stringify({ cores, vectors }))
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
