// Real hyperdrive 13.3.4 drives in corestores in temporary folders, for the
// Go tests of package hyperdrive (hyperdrive/interop_test.go). One JSON
// request on stdin, one JSON answer on stdout; blocks travel as base64.
//
//   { op: 'write', seed, steps: [{ ops, queries }] }
//       a new Hyperdrive in a Corestore with primaryKey = 32 bytes of seed;
//       for each step, applies its ops, then answers its queries. Answers
//       { key, contentKey, dbBlocks, blobsBlocks, steps: [[answer...]...] }.
//   { op: 'read', secretKey, dbBlocks, blobsBlocks, queries }
//       a new Corestore holding, appended raw, the db core of key pair
//       secretKey (default manifest) and the blobs core hyperdrive derives
//       from it; a Hyperdrive over them answers the queries:
//       { key, contentKey, answers }.
//   { op: 'stringify', texts }
//       [JSON.stringify(JSON.parse(text)) for each text].
//
// An op: { t: 'put', path, size, seed, pattern?, executable?, metadata? }
//        { t: 'stream', path, size, seed, chunks, executable?, metadata? }
//        { t: 'symlink', path, target, metadata? }
//        { t: 'del', path }
//        { t: 'batch', ops }
// A query: { q: 'list', folder, recursive? } | { q: 'readdir', folder }
//          { q: 'entry', path, follow? } | { q: 'exists', path }
//          { q: 'get', path } | { q: 'read', path, start?, length?, end? }
//          { q: 'diff', version, folder? } | { q: 'version' }
//          { q: 'blobsLength', version? }
// with version?: the query runs on drive.checkout(version).
const Corestore = require('corestore')
const Hyperdrive = require('hyperdrive')
const crypto = require('hypercore-crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { readAll, appendAll } = require('../lib/bytes.js')
const { applyOp } = require('../lib/driveops.js')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-drive-'))

const node = (n) => (n ? { key: n.key, seq: n.seq, value: n.value } : null)

async function query(drive, q) {
  const d = q.version ? drive.checkout(q.version) : drive
  try {
    switch (q.q) {
      case 'list': {
        const out = []
        const opts = q.recursive === false ? { recursive: false } : {}
        for await (const n of d.list(q.folder, opts)) out.push(node(n))
        return out
      }
      case 'readdir': {
        const out = []
        for await (const name of d.readdir(q.folder)) out.push(name)
        return out
      }
      case 'entry':
        return node(await d.entry(q.path, q.follow ? { follow: true } : undefined))
      case 'exists':
        return await d.exists(q.path)
      case 'get': {
        const b = await d.get(q.path)
        return b === null ? null : b.toString('base64')
      }
      case 'read': {
        const o = {}
        for (const f of ['start', 'length', 'end']) if (q[f] !== undefined) o[f] = q[f]
        return (await readAll(d.createReadStream(q.path, o))).toString('base64')
      }
      case 'diff': {
        const out = []
        for await (const e of drive.diff(q.diffVersion, q.folder)) out.push([node(e.left), node(e.right)])
        return out
      }
      case 'version':
        return d.version
      case 'blobsLength':
        return await drive.getBlobsLength(q.version)
    }
    throw new Error('unknown query ' + q.q)
  } finally {
    if (d !== drive) await d.close()
  }
}

async function answer(drive, queries) {
  const out = []
  for (const q of queries || []) {
    try {
      out.push(await query(drive, q))
    } catch (err) {
      out.push({ error: String(err.message || err), query: q })
    }
  }
  return out
}

async function dump(core) {
  const out = []
  for (let i = 0; i < core.length; i++) out.push((await core.get(i)).toString('base64'))
  return out
}

async function write(req) {
  const store = new Corestore(path.join(root, 'w'), { primaryKey: Buffer.alloc(32, req.seed), unsafe: true })
  const drive = new Hyperdrive(store)
  await drive.ready()
  const steps = []
  for (const step of req.steps) {
    for (const op of step.ops || []) await applyOp(drive, op)
    steps.push(await answer(drive, step.queries))
  }
  const res = {
    key: drive.key.toString('hex'),
    contentKey: drive.blobs.core.key.toString('hex'),
    dbBlocks: await dump(drive.core),
    blobsBlocks: await dump(drive.blobs.core),
    steps
  }
  await drive.close()
  return res
}

async function read(req) {
  const store = new Corestore(path.join(root, 'r'))
  const secretKey = Buffer.from(req.secretKey, 'hex')
  const keyPair = { publicKey: secretKey.subarray(32), secretKey }
  const db = store.get({ keyPair })
  await db.ready()
  await appendAll(db, req.dbBlocks)
  const m = Hyperdrive.getContentManifest(db.manifest, db.key)
  const blobs = store.get({ manifest: m, keyPair })
  await blobs.ready()
  await appendAll(blobs, req.blobsBlocks)
  const key = db.key
  await db.close()
  await blobs.close()
  const drive = new Hyperdrive(store, key)
  await drive.ready()
  await drive.getBlobs()
  const answers = await answer(drive, req.queries)
  const res = { key: drive.key.toString('hex'), contentKey: drive.blobs.core.key.toString('hex'), answers }
  await drive.close()
  return res
}

async function main() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  const req = JSON.parse(Buffer.concat(chunks).toString())
  let res
  if (req.op === 'stringify') res = req.texts.map((t) => JSON.stringify(JSON.parse(t)))
  else res = req.op === 'write' ? await write(req) : await read(req)
  process.stdout.write(JSON.stringify(res))
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => fs.rmSync(root, { recursive: true, force: true }))
