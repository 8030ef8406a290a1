// A protomux 3.12.1 peer driven by the Go interop test with JSON lines.
//
// Usage: node protomux/peer.js listen        prints {"port": n}, accepts one TCP connection
//        node protomux/peer.js connect PORT  dials 127.0.0.1:PORT
//
// The last argument picks the transport: "framed" (u24-LE length-prefixed
// messages, framing.js) or "secret" (@hyperswarm/secret-stream, the dialer
// being the Noise initiator).
// Commands (stdin), each answered by {"ev":"ok","op":...} once done:
//   {"op":"channel","name","protocol","id":hex|null,"handshake":hex|null,"echo":bool,"open":bool}
//   {"op":"pair","protocol","accept":bool,"echo":bool}   pair (protocol, any id)
//   {"op":"send","name","type","value"}   types: 0 string, 1 uint, 2 buffer (hex), 3 array of uint
//   {"op":"cork"} {"op":"uncork"} {"op":"closech","name"} {"op":"opened","protocol","id"}
//   {"op":"end"}
// Events (stdout):
//   {"ev":"open","name","handshake":hex}  {"ev":"msg","name","type","value"}
//   {"ev":"close","name","remote":bool}   {"ev":"pair","protocol","id":hex}
//   {"ev":"destroyed","error":string}
const net = require('net')
const readline = require('readline')
const c = require('compact-encoding')
const Protomux = require('protomux')
const SecretStream = require('@hyperswarm/secret-stream')
const { framed } = require('./framing.js')

const codecs = [c.string, c.uint, c.buffer, c.array(c.uint)]
const toJSON = [(v) => v, (v) => v, (v) => Buffer.from(v).toString('hex'), (v) => v]
const fromJSON = [(v) => v, (v) => v, (v) => Buffer.from(v, 'hex'), (v) => v]

function emit (o) { process.stdout.write(JSON.stringify(o) + '\n') }
const hexOrNull = (h) => (h === null || h === undefined ? null : Buffer.from(h, 'hex'))

function run (socket, isInitiator) {
  const stream = process.argv[process.argv.length - 1] === 'secret'
    ? new SecretStream(isInitiator, socket)
    : framed(socket)
  const mux = new Protomux(stream)
  const channels = new Map()
  stream.on('close', () => emit({ ev: 'destroyed', error: stream._gopearError || null }))
  stream.on('error', (err) => { stream._gopearError = err.message })

  function makeChannel (name, protocol, id, echo) {
    const ch = mux.createChannel({
      protocol,
      id,
      handshake: c.raw,
      onopen (hs) { emit({ ev: 'open', name, handshake: Buffer.from(hs || []).toString('hex') }) },
      onclose (remote) { emit({ ev: 'close', name, remote }) }
    })
    if (ch === null) return null
    codecs.forEach((encoding, type) => {
      ch.addMessage({
        encoding,
        onmessage (v) {
          emit({ ev: 'msg', name, type, value: toJSON[type](v) })
          if (echo) ch.messages[type].send(v)
        }
      })
    })
    channels.set(name, ch)
    return ch
  }

  const rl = readline.createInterface({ input: process.stdin })
  rl.on('line', (line) => {
    const cmd = JSON.parse(line)
    const ok = (extra) => emit({ ev: 'ok', op: cmd.op, ...extra })
    switch (cmd.op) {
      case 'channel': {
        const ch = makeChannel(cmd.name, cmd.protocol, hexOrNull(cmd.id), cmd.echo)
        if (ch && cmd.open) ch.open(hexOrNull(cmd.handshake) || Buffer.alloc(0))
        return ok({ created: ch !== null })
      }
      case 'pair':
        mux.pair({ protocol: cmd.protocol }, (id) => {
          const hex = id ? Buffer.from(id).toString('hex') : ''
          emit({ ev: 'pair', protocol: cmd.protocol, id: hex })
          if (!cmd.accept) return
          const ch = makeChannel(cmd.protocol + ':' + hex, cmd.protocol, id, cmd.echo)
          ch.open(Buffer.from('js-accept'))
        })
        return ok()
      case 'send':
        return ok({ sent: channels.get(cmd.name).messages[cmd.type].send(fromJSON[cmd.type](cmd.value)) })
      case 'cork':
        mux.cork()
        return ok()
      case 'uncork':
        mux.uncork()
        return ok()
      case 'closech':
        channels.get(cmd.name).close()
        return ok()
      case 'opened':
        return ok({ opened: mux.opened({ protocol: cmd.protocol, id: hexOrNull(cmd.id) }) })
      case 'end':
        stream.end()
        return ok()
    }
  })
  rl.on('close', () => { stream.destroy(); process.exit(0) })
}

if (process.argv[2] === 'listen') {
  const server = net.createServer((socket) => { server.close(); run(socket, false) })
  server.listen(0, '127.0.0.1', () => emit({ port: server.address().port }))
} else {
  const socket = net.connect(Number(process.argv[3]), '127.0.0.1')
  socket.on('connect', () => { emit({ connected: true }); run(socket, true) })
}
