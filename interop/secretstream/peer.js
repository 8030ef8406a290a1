// A JS secret-stream peer for the Go interop tests, over TCP on 127.0.0.1.
//
//   node secretstream/peer.js '<json options>'
//
// Options: role ('initiator' dials opts.port, 'responder' listens and
// prints {event: 'listening', port}), keySeed (static key pair seed byte),
// mode, and per mode:
//   bulk    send `size` bytes (64 KiB messages), hash what is received
//           until end; print {event: 'done', sent, received, receivedBytes}
//   echo    write back every message; end when the peer ends
//   end     write `payload`, end, print {event: 'received', data} at end
//   flood   write until the stream fails; print how it ended
//   destroy write 4 KiB messages of `payload`; after `after` bytes are received,
//           destroy the stream
//   idle    just stay connected (keepAlive / timeout options apply)
// Every mode prints {event: 'handshake', publicKey, remotePublicKey, hash}
// first, and {event: 'end'|'error'|'close', ...} as the stream reports them.
const net = require('net')
const crypto = require('crypto')
const NoiseSecretStream = require('@hyperswarm/secret-stream')

const opts = JSON.parse(process.argv[2])
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const hex = (b) => Buffer.from(b).toString('hex')

function run (socket) {
  const s = new NoiseSecretStream(opts.role === 'initiator', socket, {
    keyPair: NoiseSecretStream.keyPair(Buffer.alloc(32, opts.keySeed || 1)),
    keepAlive: opts.keepAlive || 0
  })
  if (opts.timeout) s.setTimeout(opts.timeout)
  s.on('error', (err) => out({ event: 'error', message: err.message, code: err.code || null }))
  s.on('end', () => out({ event: 'end' }))
  s.on('close', () => {
    out({ event: 'close' })
    setImmediate(() => process.exit(0))
  })
  s.on('connect', () => {
    out({ event: 'handshake', publicKey: hex(s.publicKey), remotePublicKey: hex(s.remotePublicKey), hash: hex(s.handshakeHash) })
    modes[opts.mode](s)
  })
}

const modes = {
  bulk (s) {
    const pool = crypto.randomBytes(1 << 20)
    const sent = crypto.createHash('sha256')
    const received = crypto.createHash('sha256')
    let receivedBytes = 0
    let sending = true
    let receiving = true
    const finish = () => {
      if (sending || receiving) return
      out({ event: 'done', sent: sent.digest('hex'), received: received.digest('hex'), receivedBytes })
    }
    s.on('data', (d) => { received.update(d); receivedBytes += d.byteLength })
    s.on('end', () => { receiving = false; finish() })
    let left = opts.size
    let offset = 0
    const chunk = 65536
    const write = () => {
      while (left > 0) {
        const n = Math.min(chunk, left)
        if (offset + n > pool.byteLength) offset = 0
        const b = pool.subarray(offset, offset + n)
        offset += 4099 // vary the data from message to message
        sent.update(b)
        left -= n
        if (!s.write(b)) return s.once('drain', write)
      }
      s.end()
      sending = false
      finish()
    }
    write()
  },
  echo (s) {
    s.on('data', (d) => s.write(d))
    s.on('end', () => s.end())
  },
  end (s) {
    const chunks = []
    s.on('data', (d) => chunks.push(d))
    s.on('end', () => out({ event: 'received', data: Buffer.concat(chunks).toString() }))
    s.write(Buffer.from(opts.payload))
    s.end()
  },
  flood (s) {
    const b = Buffer.alloc(65536, 1)
    s.on('data', () => {})
    const write = () => {
      if (s.destroying) return
      if (!s.write(b)) return s.once('drain', write)
      setImmediate(write)
    }
    write()
  },
  destroy (s) {
    let got = 0
    s.on('data', (d) => {
      got += d.byteLength
      if (got >= opts.after && !s.destroying) {
        out({ event: 'destroying', got })
        s.destroy()
      }
    })
    const b = Buffer.alloc(4096, opts.payload || 'x')
    const write = () => {
      if (s.destroying) return
      if (!s.write(b)) return s.once('drain', write)
      setImmediate(write) // let reads in between
    }
    write()
  },
  idle (s) {
    s.on('data', (d) => out({ event: 'data', length: d.byteLength }))
  }
}

if (opts.role === 'initiator') {
  const socket = net.connect({ port: opts.port, host: '127.0.0.1', allowHalfOpen: true })
  run(socket)
} else {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    server.close()
    run(socket)
  })
  server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }))
}
// Closing stdin (the test ending) ends the script.
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
