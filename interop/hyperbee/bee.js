// Real hyperbee 2.27.3 bees on hypercore 11 cores for the Go tests of package
// hyperbee (hyperbee/interop_test.go): one JSON command per line on stdin,
// one JSON answer per line on stdout. Keys and values are hex.
//
//   { op: 'run', ops, queries }
//       a new bee in a temporary folder; applies ops in order, then answers
//       { blocks: [hex of every block of the core], results: [...] }.
//   { op: 'load', blocks, queries }
//       a new core in a temporary folder holding exactly `blocks` (appended
//       raw), read by a Hyperbee: { length, results: [...] }.
//
// An op is one of
//   { t: 'put', k, v, sub?, cas? }   sub: list of sub names (hex), applied
//   { t: 'del', k, sub?, cas? }      as bee.sub(a).sub(b)...
//   { t: 'batch', ops: [put/del ops without sub] }
// cas names a compare-and-swap rule shared with the Go test:
//   'neq'  write only if the stored value differs from the new one
//   'even' write only if the stored entry's seq is even
//
// A query is { q, version?, sub?, ... }: version (0 = the live bee) makes a
// checkout first, sub then makes subs of it.
//   { q: 'get', k }                      -> null | [seq, key, value]
//   { q: 'range', gt?, gte?, lt?, lte?, reverse?, limit? } -> [[seq, key, value], ...]
//   { q: 'history', gt?, gte?, lt?, lte?, reverse?, limit? } -> [[type, seq, key, value], ...]
//   { q: 'diff', other, gt?, ..., limit? } -> [[left, right], ...], each null | [seq, key, value]
//   { q: 'header' }                      -> { protocol, contentFeed, userData }
//   { q: 'version' }                     -> number
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')
const crypto = require('hypercore-crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')
const { hex, buf, applyOp, answer } = require('../lib/beeops.js')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-bee-'))
let counter = 0

async function newCore() {
  const core = new Hypercore(path.join(root, 'core' + counter++), {
    keyPair: crypto.keyPair(Buffer.alloc(32, counter))
  })
  await core.ready()
  return core
}

async function run({ ops, queries, metadata }) {
  const core = await newCore()
  const opts = {}
  if (metadata) opts.metadata = { contentFeed: metadata.contentFeed ? buf(metadata.contentFeed) : null, userData: metadata.userData ? buf(metadata.userData) : null }
  const db = new Hyperbee(core, opts)
  await db.ready()
  for (const op of ops) await applyOp(db, op)
  const blocks = []
  for (let i = 0; i < core.length; i++) blocks.push(hex(await core.get(i)))
  const results = await answer(db, queries)
  await db.close()
  return { blocks, results }
}

async function load({ blocks, queries }) {
  const core = await newCore()
  const raw = blocks.map(buf)
  for (let i = 0; i < raw.length; i += 1000) await core.append(raw.slice(i, i + 1000))
  const db = new Hyperbee(core)
  await db.ready()
  const results = await answer(db, queries)
  const length = core.length
  await db.close()
  return { length, results }
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin })
  try {
    for await (const line of rl) {
      if (!line.trim()) continue
      const req = JSON.parse(line)
      let res
      try {
        if (req.op === 'run') res = await run(req)
        else if (req.op === 'load') res = await load(req)
        else throw new Error('unknown op ' + req.op)
      } catch (err) {
        res = { error: String(err && err.stack ? err.stack : err) }
      }
      process.stdout.write(JSON.stringify(res) + '\n')
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  fs.rmSync(root, { recursive: true, force: true })
  process.exit(1)
})
