// Prints the reference's answers for the inputs examples/vectors/main.go
// checks, one JSON object of name -> hex (or text).
const c = require('compact-encoding')
const crypto = require('hypercore-crypto')
const flat = require('flat-tree')
const z32 = require('z32')
const id = require('hypercore-id-encoding')

const hex = (b) => Buffer.from(b).toString('hex')
const leaf = crypto.data(Buffer.from('hello'))
const leaf2 = crypto.data(Buffer.from('world'))
const parent = crypto.parent({ index: 0, size: 5, hash: leaf }, { index: 2, size: 5, hash: leaf2 })
const kp = crypto.keyPair(Buffer.alloc(32, 1))
const msg = Buffer.from('gopear')

console.log(JSON.stringify({
  'cenc uint 300': hex(c.encode(c.uint, 300)),
  'cenc uint 2^32': hex(c.encode(c.uint, 2 ** 32)),
  'cenc int -2': hex(c.encode(c.int, -2)),
  "cenc string 'hé'": hex(c.encode(c.string, 'hé')),
  'cenc ipv4Address 1.2.3.4:49737': hex(c.encode(c.ipv4Address, { host: '1.2.3.4', port: 49737 })),
  'cenc array(uint) [1,300]': hex(c.encode(c.array(c.uint), [1, 300])),
  'discovery key of the zero key': hex(crypto.discoveryKey(Buffer.alloc(32))),
  "leaf hash of 'hello'": hex(leaf),
  "parent hash of 'hello','world'": hex(parent),
  'tree hash of that parent': hex(crypto.tree([{ index: 1, size: 10, hash: parent }])),
  'public key from seed 01×32': hex(kp.publicKey),
  "signature of 'gopear'": hex(crypto.sign(msg, kp.secretKey)),
  "namespace('hypercore')[0]": hex(crypto.namespace('hypercore', 1)[0]),
  'flat-tree fullRoots(10)': flat.fullRoots(10).join(','),
  'z32 of that public key': z32.encode(kp.publicKey),
  'id-encoding decode of its hex': hex(id.decode(hex(kp.publicKey)))
}))
