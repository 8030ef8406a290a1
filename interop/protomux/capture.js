// Runs a protomux 3.12.1 session between two muxes over in-memory streamx
// duplexes and prints every frame either side wrote, as a JSON array of hex
// strings: opens with and without ids and handshakes, messages of several
// codecs, a corked batch holding opens, messages on several channels and a
// close, a reject, closes. The Go tests check that they parse and re-encode
// byte for byte, and seed the fuzz corpus with them.
const { Duplex } = require('streamx')
const c = require('compact-encoding')
const Protomux = require('protomux')

const frames = []
let a = null
let b = null
a = new Duplex({ write (data, cb) { frames.push(Buffer.from(data).toString('hex')); b.push(data); cb(null) } })
b = new Duplex({ write (data, cb) { frames.push(Buffer.from(data).toString('hex')); a.push(data); cb(null) } })
const ma = new Protomux(a)
const mb = new Protomux(b)

const messages = [{ encoding: c.string }, { encoding: c.uint }, { encoding: c.buffer }, { encoding: c.array(c.uint) }]

function channel (mux, protocol, id, handshake) {
  return mux.createChannel({ protocol, id, handshake: handshake ? c.raw : null, messages })
}

mb.pair({ protocol: 'test' }, (id) => {
  const ch = channel(mb, 'test', id, true)
  ch.open(Buffer.from('accept'))
})

async function main () {
  const ch1 = channel(ma, 'test', Buffer.from([1, 1]), false)
  ch1.open()
  const ch2 = channel(ma, 'test', Buffer.alloc(32, 7), true)
  ch2.open(Buffer.from([1, ...Buffer.alloc(32, 9)]))
  await ch1.fullyOpened()
  await ch2.fullyOpened()
  ch1.messages[0].send('hi')
  ch1.messages[1].send(0xfd)
  ch1.messages[1].send(2 ** 40)
  ch2.messages[2].send(Buffer.alloc(300, 0xab))
  ch2.messages[3].send([1, 300, 70000])

  ma.cork()
  const ch3 = channel(ma, 'test', Buffer.from('three'), false)
  ch3.open()
  ch1.messages[0].send('batched')
  ch2.messages[1].send(5)
  ch1.messages[0].send('again')
  ch1.close()
  ma.uncork()

  const nobody = channel(ma, 'nobody', null, false)
  nobody.open()
  await nobody.fullyOpened()
  ch2.close()
  await new Promise((resolve) => setImmediate(resolve))
  process.stdout.write(JSON.stringify(frames) + '\n')
  a.destroy()
  b.destroy()
}

main()
