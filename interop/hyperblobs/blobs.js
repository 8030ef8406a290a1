// Real hyperblobs 2.12.1 on real hypercore 11 cores (temporary folders) for
// the Go tests of package hyperblobs (hyperblobs/interop_test.go). One JSON
// request on stdin, one JSON answer on stdout. Bytes travel as base64.
//
//   { op: 'write', seed, blockSize?, puts, reads }
//       a new core with key pair crypto.keyPair(seed as 32 bytes of `seed`),
//       then each put in order:
//         { size, pattern, seed, blockSize?, chunks?, blockMap?, dedup? }
//       the content is gen(pattern, seed, size, blockSize) (lib/bytes.js,
//       the same function as the Go test); without chunks it is blobs.put(content, opts);
//       with chunks (a list of sizes, cycled) it is written into
//       createWriteStream(opts) one write() per chunk.
//       answers { key, blocks: [b64], ids: [id], byteLength, reads: [b64|{error}] }
//   { op: 'read', blocks, reads }
//       a new core holding exactly `blocks`, appended raw, read back:
//       { reads: [b64|{error}] }
//
// A read is { id, start?, length?, end?, whole? } (id a blob id, or with
// `blob: i` the id of put i); whole uses blobs.get(id), otherwise the bytes
// of createReadStream(id, { start, length, end }).
const Hypercore = require('hypercore')
const Hyperblobs = require('hyperblobs')
const crypto = require('hypercore-crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { gen, writeChunks, readAll, appendAll } = require('../lib/bytes.js')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-blobs-'))
let counter = 0

async function newCore(seed) {
  const core = new Hypercore(path.join(root, 'core' + counter++), {
    keyPair: crypto.keyPair(Buffer.alloc(32, seed || 1))
  })
  await core.ready()
  return core
}

async function doReads(blobs, reads, ids) {
  const out = []
  for (const r of reads || []) {
    const id = r.id || ids[r.blob]
    try {
      let data
      if (r.whole) data = await blobs.get(id)
      else {
        const o = {}
        for (const f of ['start', 'length', 'end']) if (r[f] !== undefined && r[f] !== null) o[f] = r[f]
        data = await readAll(blobs.createReadStream(id, o))
      }
      out.push(data === null ? { error: 'null' } : data.toString('base64'))
    } catch (err) {
      out.push({ error: String(err.message || err) })
    }
  }
  return out
}

async function write(req) {
  const core = await newCore(req.seed)
  const blobs = new Hyperblobs(core, req.blockSize ? { blockSize: req.blockSize } : {})
  const ids = []
  for (const p of req.puts) {
    const bs = p.blockSize || blobs.blockSize
    const content = gen(p.pattern || 'mix', p.seed || 0, p.size, bs)
    const opts = {}
    if (p.blockSize) opts.blockSize = p.blockSize
    if (p.blockMap) opts.blockMap = true
    if (p.dedup) opts.dedup = true
    if (!p.chunks) {
      ids.push(await blobs.put(content, opts))
      continue
    }
    const ws = blobs.createWriteStream(opts)
    await writeChunks(ws, content, p.chunks)
    ids.push(ws.id)
  }
  const blocks = []
  for (let i = 0; i < core.length; i++) blocks.push((await core.get(i)).toString('base64'))
  const reads = await doReads(blobs, req.reads, ids)
  const res = { key: core.key.toString('hex'), blocks, ids, byteLength: core.byteLength, reads }
  await core.close()
  return res
}

async function read(req) {
  const core = await newCore(req.seed)
  await appendAll(core, req.blocks)
  const blobs = new Hyperblobs(core)
  const reads = await doReads(blobs, req.reads, [])
  await core.close()
  return { reads }
}

async function main() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  const req = JSON.parse(Buffer.concat(chunks).toString())
  const res = req.op === 'write' ? await write(req) : await read(req)
  process.stdout.write(JSON.stringify(res))
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => fs.rmSync(root, { recursive: true, force: true }))
