// Secret-stream throughput over loopback TCP, the JS side of
// bench/secretstream.go.
//
//   node secretstream.js pair <bytes>   both ends in this process: one sends
//                                       <bytes> in 64 KiB messages, the other
//                                       receives; prints {"value": MB/s}
//   node secretstream.js send <bytes>   listen on 127.0.0.1, print {"port"};
//                                       to the one peer that connects (as the
//                                       initiator), send <bytes> and end
//   node secretstream.js recv           listen, print {"port"}; receive until
//                                       the peer ends, print {"bytes"}
const net = require('net')
const NoiseSecretStream = require('@hyperswarm/secret-stream')
const { report } = require('./timing.js')

const CHUNK = 65536
const MB = 1e6

function send (s, size, done) {
  const buf = Buffer.alloc(CHUNK, 1)
  let left = size
  const write = () => {
    while (left > 0) {
      const n = Math.min(CHUNK, left)
      left -= n
      if (!s.write(n === CHUNK ? buf : buf.subarray(0, n))) return s.once('drain', write)
    }
    s.end()
    if (done) done()
  }
  write()
}

function listen (onstream) {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    server.close()
    socket.setNoDelay(true)
    const s = new NoiseSecretStream(false, socket)
    s.on('error', (err) => { console.error(err); process.exit(1) })
    onstream(s)
  })
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n')
  })
}

const [mode, arg] = process.argv.slice(2)
const size = Number(arg || 256 * MB)

if (mode === 'pair') {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    server.close()
    socket.setNoDelay(true)
    const s = new NoiseSecretStream(false, socket)
    let got = 0
    let start = 0
    s.on('connect', () => { start = process.hrtime.bigint() })
    s.on('data', (d) => { got += d.byteLength })
    s.on('end', () => {
      const secs = Number(process.hrtime.bigint() - start) / 1e9
      report(got / MB / secs)
      s.end()
    })
  })
  server.listen(0, '127.0.0.1', () => {
    const socket = net.connect({ port: server.address().port, host: '127.0.0.1', allowHalfOpen: true })
    socket.setNoDelay(true)
    const c = new NoiseSecretStream(true, socket)
    c.on('connect', () => send(c, size))
    c.on('data', () => {})
  })
} else if (mode === 'send') {
  listen((s) => {
    s.on('data', () => {})
    s.on('connect', () => send(s, size))
  })
} else if (mode === 'recv') {
  listen((s) => {
    let got = 0
    s.on('data', (d) => { got += d.byteLength })
    s.on('end', () => {
      process.stdout.write(JSON.stringify({ bytes: got }) + '\n')
      s.end()
    })
  })
} else {
  throw new Error('usage: secretstream.js pair|send|recv [bytes]')
}
