// Answers with hypercore-crypto 3.7.0 for the requests on stdin (JSON, bytes
// as hex) and prints the answers as JSON:
//   discoveryKeys: [key]                          -> [dk]
//   leaves: [data]                                -> [hash]
//   parents: [[a, b]] with nodes {index, size, hash} -> [hash]
//   trees: [[root...]]                            -> [hash]
//   hashes: [[buf...]]                            -> [hash]
//   namespaces: [{ name, count } | { name, ids }] -> [[ns...]]
//   keyPairs: [seed]                              -> [{ publicKey, secretKey }]
//   signs: [{ secretKey, message }]               -> [signature]
//   encryptionKeyPairs: [seed]                    -> [{ publicKey, secretKey }]
//   encrypts: [{ publicKey, message }]            -> [ciphertext | null if it throws]
//   decrypts: [{ publicKey, secretKey, ciphertext }] -> [message | null]
const crypto = require('hypercore-crypto')

const hex = (b) => Buffer.from(b).toString('hex')
const buf = (h) => Buffer.from(h || '', 'hex')
const node = (n) => ({ index: n.index, size: n.size, hash: buf(n.hash) })

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const req = JSON.parse(input)
  const out = {}
  out.discoveryKeys = (req.discoveryKeys || []).map((k) => hex(crypto.discoveryKey(buf(k))))
  out.leaves = (req.leaves || []).map((d) => hex(crypto.data(buf(d))))
  out.parents = (req.parents || []).map(([a, b]) => hex(crypto.parent(node(a), node(b))))
  out.trees = (req.trees || []).map((roots) => hex(crypto.tree(roots.map(node))))
  out.hashes = (req.hashes || []).map((bufs) => hex(crypto.hash(bufs.map(buf))))
  out.namespaces = (req.namespaces || []).map((ns) =>
    crypto.namespace(ns.name, ns.ids !== undefined ? ns.ids : (ns.count || 0)).map(hex))
  out.keyPairs = (req.keyPairs || []).map((seed) => {
    const kp = crypto.keyPair(buf(seed))
    return { publicKey: hex(kp.publicKey), secretKey: hex(kp.secretKey) }
  })
  out.signs = (req.signs || []).map((s) => hex(crypto.sign(buf(s.message), buf(s.secretKey))))
  out.encryptionKeyPairs = (req.encryptionKeyPairs || []).map((seed) => {
    const kp = crypto.encryptionKeyPair(buf(seed))
    return { publicKey: hex(kp.publicKey), secretKey: hex(kp.secretKey) }
  })
  out.encrypts = (req.encrypts || []).map((e) => {
    try {
      return hex(crypto.encrypt(buf(e.message), buf(e.publicKey)))
    } catch {
      return null
    }
  })
  out.decrypts = (req.decrypts || []).map((d) => {
    const m = crypto.decrypt(buf(d.ciphertext), { publicKey: buf(d.publicKey), secretKey: buf(d.secretKey) })
    return m === null ? null : hex(m)
  })
  process.stdout.write(JSON.stringify(out))
})
