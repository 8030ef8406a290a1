// The JSON-lines command loop of the interop peer scripts: the Go test
// writes one command { op, ... } a line on stdin, and the script answers
// each with one JSON line on stdout.

const readline = require('readline')

// out writes o as one JSON line on stdout.
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')

// serve runs the commands on stdin one at a time, in order, answering each
// with what ops[cmd.op](cmd) resolves to, or { error } if it fails. When
// stdin ends, it runs ops.close().
function serve(ops) {
  let chain = Promise.resolve()
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (!line.trim()) return
    const cmd = JSON.parse(line)
    chain = chain
      .then(() => ops[cmd.op](cmd))
      .then(out, (err) => out({ error: String((err && err.stack) || err) }))
  })
  process.stdin.on('end', () => {
    chain.then(() => ops.close())
  })
}

module.exports = { out, serve }
