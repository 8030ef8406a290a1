// Feeds protomux 3.12.1 odd or malformed frames, one fresh mux each, and
// reports for each whether the mux destroyed its stream. After the frame it
// sends a probe, an open of protocol "ok" with id 1, to show the mux still
// works. Input (stdin): a JSON array of hex frames. Output: a JSON array of
// {"destroyed": bool, "paired": bool, "error": string|null}.
const { Duplex } = require('streamx')
const Protomux = require('protomux')

const probe = Buffer.from('000101026f6b00', 'hex')

function check (hex) {
  return new Promise((resolve) => {
    const stream = new Duplex({ write (data, cb) { cb(null) } })
    const mux = new Protomux(stream)
    const result = { destroyed: false, paired: false, error: null }
    stream.on('error', (err) => { result.error = err.message })
    stream.on('close', () => { result.destroyed = true })
    mux.pair({ protocol: 'ok' }, () => { result.paired = true })
    stream.push(Buffer.from(hex, 'hex'))
    stream.push(probe)
    setTimeout(() => {
      const seen = { ...result }
      stream.destroy()
      resolve(seen)
    }, 20)
  })
}

async function main () {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const frames = JSON.parse(Buffer.concat(chunks).toString())
  const out = []
  for (const hex of frames) {
    out.push(await check(hex))
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main()
