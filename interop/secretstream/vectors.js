// Prints Noise and libsodium secretstream vectors from the JS reference as
// one JSON object (mode "vectors"), or, in mode "pull", reads
// {key, header, messages: [hex]} on stdin and prints {messages: [{plain, tag}]}
// as sodium-secretstream's Pull (and libsodium's pull) decrypt them.
const Noise = require('noise-handshake')
const curve = require('noise-curve-ed')
const sodium = require('sodium-universal')
const { Push, Pull } = require('sodium-secretstream')
const crypto = require('hypercore-crypto')
const NoiseSecretStream = require('@hyperswarm/secret-stream')

const hex = (b) => Buffer.from(b).toString('hex')
const seeded = (s) => curve.generateKeyPair(Buffer.alloc(32, s))

function handshake (pattern, prologue, payloads) {
  const a = new Noise(pattern, true, seeded(1), { curve })
  const b = new Noise(pattern, false, seeded(2), { curve })
  a.initialise(prologue, pattern === 'IK' ? seeded(2).publicKey : undefined)
  b.initialise(prologue)
  a.e = seeded(3)
  b.e = seeded(4)
  const msgs = []
  let from = a
  let to = b
  let i = 0
  while (!a.complete || !b.complete) {
    const payload = Buffer.from(payloads[i++] || '', 'utf8')
    const m = from.send(payload)
    const message = hex(m) // before recv, which zeroes the ephemeral key inside m once complete
    const got = to.recv(m)
    msgs.push({ message, payload: hex(payload), received: hex(got) })
    ;[from, to] = [to, from]
  }
  return {
    pattern,
    prologue: hex(prologue),
    messages: msgs,
    hash: hex(a.hash),
    initiatorTx: hex(a.tx),
    initiatorRx: hex(a.rx),
    responderTx: hex(b.tx),
    responderRx: hex(b.rx),
    initiatorRemote: hex(a.rs),
    responderRemote: hex(b.rs)
  }
}

function vectors () {
  const seeds = [1, 2, 3, 4].map((s) => ({ seed: s, publicKey: hex(seeded(s).publicKey) }))
  const dh = []
  for (const [x, y] of [[1, 2], [2, 1], [3, 4], [1, 4]]) {
    dh.push({ local: x, remote: y, shared: hex(curve.dh(seeded(y).publicKey, seeded(x))) })
  }
  const [nsPeerHandshake] = crypto.namespace('hyperswarm/dht', [0])
  const xx = handshake('XX', Buffer.alloc(0), [])
  const xxPayload = handshake('XX', Buffer.from('prologue'), ['one', 'two', 'three'])
  const ik = handshake('IK', nsPeerHandshake, ['hello from the initiator', 'hello back'])

  // libsodium secretstream: the state is opaque, so the header is random;
  // Go pulls these messages with the same header.
  const key = Buffer.alloc(32, 7)
  const state = Buffer.alloc(sodium.crypto_secretstream_xchacha20poly1305_STATEBYTES)
  const header = Buffer.alloc(24)
  sodium.crypto_secretstream_xchacha20poly1305_init_push(state, header, key)
  const messages = []
  const sizes = [0, 1, 5, 16, 63, 64, 65, 1000, 70000, 3]
  sizes.forEach((n, i) => {
    const plain = Buffer.alloc(n)
    for (let j = 0; j < n; j++) plain[j] = (i * 31 + j) & 255
    const tag = i % 4 // MESSAGE, PUSH, REKEY, FINAL
    const c = Buffer.alloc(n + 17)
    sodium.crypto_secretstream_xchacha20poly1305_push(state, c, plain, null, tag)
    messages.push({ plain: hex(plain), tag, cipher: hex(c) })
  })
  // sodium-secretstream's Push as secret-stream uses it ('hello', TAG_MESSAGE).
  const p = new Push(key)
  const hello = { header: hex(p.header), cipher: hex(p.next(Buffer.from('hello'))) }

  const hash = Buffer.from(xx.hash, 'hex')
  const streamIds = { hash: xx.hash, initiator: hex(NoiseSecretStream.id(hash, true)), responder: hex(NoiseSecretStream.id(hash, false)) }

  return { seeds, dh, xx, xxPayload, ik, sodium: { key: hex(key), header: hex(header), messages }, hello, streamIds }
}

function pull (input) {
  const key = Buffer.from(input.key, 'hex')
  const q = new Pull(key)
  q.init(Buffer.from(input.header, 'hex'))
  const out = []
  for (const m of input.messages) {
    const c = Buffer.from(m, 'hex')
    const plain = Buffer.alloc(c.byteLength - 17)
    const tag = Buffer.alloc(1)
    sodium.crypto_secretstream_xchacha20poly1305_pull(q.state, plain, tag, c, null)
    out.push({ plain: hex(plain), tag: tag[0] })
  }
  return { messages: out }
}

const mode = process.argv[2] || 'vectors'
if (mode === 'vectors') {
  process.stdout.write(JSON.stringify(vectors()) + '\n')
} else if (mode === 'pull') {
  let data = ''
  process.stdin.on('data', (d) => { data += d })
  process.stdin.on('end', () => process.stdout.write(JSON.stringify(pull(JSON.parse(data))) + '\n'))
} else {
  throw new Error('unknown mode ' + mode)
}
