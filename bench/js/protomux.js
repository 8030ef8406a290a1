// 32-byte messages on one protomux channel between two muxes over a pair of
// in-memory streamx duplexes, counted as the receiving handler sees them.
// Mirrors bench/protomux.go.
const { Duplex } = require('streamx')
const c = require('compact-encoding')
const Protomux = require('protomux')
const { rateAsync, report } = require('./timing.js')

function pipe () {
  let a = null
  let b = null
  a = new Duplex({ write (data, cb) { b.push(data); cb(null) } })
  b = new Duplex({ write (data, cb) { a.push(data); cb(null) } })
  return [a, b]
}

async function main () {
  const [sa, sb] = pipe()
  const sender = new Protomux(sa)
  const receiver = new Protomux(sb)

  let count = 0
  let target = 0
  let arrived = null

  receiver.pair({ protocol: 'bench' }, (id) => {
    const ch = receiver.createChannel({ protocol: 'bench', id })
    ch.addMessage({
      encoding: c.raw,
      onmessage () {
        if (++count === target) arrived()
      }
    })
    ch.open()
  })
  const ch = sender.createChannel({ protocol: 'bench' })
  const msg = ch.addMessage({ encoding: c.raw })
  ch.open()
  await ch.fullyOpened()

  const payload = Buffer.alloc(32)
  const value = await rateAsync(2000, (n) => new Promise((resolve) => {
    count = 0
    target = n
    arrived = resolve
    for (let i = 0; i < n; i++) msg.send(payload)
  }))
  report(value)
  sa.destroy()
  sb.destroy()
}

main()
