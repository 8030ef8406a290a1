// Reads a JSON array of { type, hex } on stdin (encodings made by Go),
// decodes each with hypercore's codec and re-encodes it, and prints a JSON
// array of { ok, value, hex, error } in the same order.
const { tryDecode } = require('./wire_common.js')

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const vectors = JSON.parse(input)
  console.log(JSON.stringify(vectors.map((v) => tryDecode(v.type, v.hex))))
})
