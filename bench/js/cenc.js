// Encode + decode a hypercore "data" message with hypercore's own codec.
// Mirrors bench/cenc.go. With the argument "vector" it prints the encoding
// in hex instead of timing.
const c = require('compact-encoding')
const { wire } = require('hypercore/lib/messages.js')
const { rate, report } = require('./timing.js')

function node (i) {
  const hash = Buffer.alloc(32)
  for (let j = 0; j < 32; j++) hash[j] = (i + j) & 0xff
  return { index: i * 37, size: 1024 * (i + 1), hash }
}

const range = (n, base) => Array.from({ length: n }, (_, i) => node(base + i))

const m = {
  request: 42,
  fork: 0,
  block: { index: 5000, value: Buffer.alloc(1024, 0xab), nodes: range(10, 0) },
  hash: null,
  seek: null,
  upgrade: { start: 5000, length: 5001, nodes: range(3, 100), additionalNodes: range(2, 200), signature: Buffer.alloc(64, 0x5a) },
  manifest: null
}

if (process.argv[2] === 'vector') {
  console.log(c.encode(wire.data, m).toString('hex'))
} else {
  report(rate(2000, (n) => {
    for (let i = 0; i < n; i++) c.decode(wire.data, c.encode(wire.data, m))
  }))
}
