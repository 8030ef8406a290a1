// Answers with z32 1.1.0 and hypercore-id-encoding 1.3.0 for the requests
// on stdin (JSON; bytes as hex) and prints the answers as JSON:
//   encode: [hex]    -> [z32 string]
//   decode: [string] -> [{ hex } | { error }]
//   ids:    [string] -> [{ hex, normalized, valid } | { error, valid }]
const z32 = require('z32')
const id = require('hypercore-id-encoding')

const attempt = (f) => {
  try {
    return f()
  } catch (err) {
    return { error: err.message }
  }
}

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const req = JSON.parse(input)
  const out = {}
  out.encode = (req.encode || []).map((h) => z32.encode(Buffer.from(h, 'hex')))
  out.decode = (req.decode || []).map((s) => attempt(() => ({ hex: Buffer.from(z32.decode(s)).toString('hex') })))
  out.ids = (req.ids || []).map((s) => {
    const r = attempt(() => ({ hex: Buffer.from(id.decode(s)).toString('hex'), normalized: id.normalize(s) }))
    r.valid = id.isValid(s)
    return r
  })
  process.stdout.write(JSON.stringify(out))
})
