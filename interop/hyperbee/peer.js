// A JS hyperbee 2.27.3 peer that replicates over TCP on 127.0.0.1, for the
// Go tests of package hyperbee (hyperbee/interop_replicate_test.go): a
// corestore 7 in a temporary folder, replicating with store.replicate(
// isInitiator) piped to a net socket (secret-stream + protomux; corestore
// throws on a raw socket passed as the stream). One JSON command per line
// on stdin, one JSON answer per line on stdout, in order. Keys and values
// are hex; ops and queries are those of bee.js.
//
//   { op: 'seed', ops, queries }
//       a bee on the store's core named 'bee'; applies ops, answers the
//       queries locally, then serves the store to every TCP client (as the
//       stream responder): { key, length, port, results }
//   { op: 'read', key, port, length, queries, probe }
//       a new store dials 127.0.0.1:port (as the initiator), gets the core
//       by key, waits until it has length blocks, gets the key probe (hex)
//       and counts the blocks stored then (to show the read is sparse),
//       then answers the queries over replication:
//       { length, stored, results }
//   { op: 'close' }   closes everything and exits
const Corestore = require('corestore')
const Hyperbee = require('hyperbee')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-bee-peer-'))
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const hex = (b) => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'))
const buf = (h) => Buffer.from(h, 'hex')
const closers = []
let n = 0

function casRule(name) {
  if (!name) return null
  if (name === 'neq') return (prev, next) => !sameValue(prev.value, next.value)
  if (name === 'even') return (prev) => prev.seq % 2 === 0
  throw new Error('unknown cas rule ' + name)
}

function sameValue(a, b) {
  if (a === null || b === null) return a === b
  return Buffer.compare(a, b) === 0
}

function subOf(bee, names) {
  for (const n of names || []) bee = bee.sub(buf(n))
  return bee
}

async function applyOp(db, op) {
  if (op.t === 'batch') {
    const b = db.batch()
    for (const o of op.ops) {
      const cas = casRule(o.cas)
      if (o.t === 'put') await b.put(buf(o.k), buf(o.v), cas ? { cas } : undefined)
      else await b.del(buf(o.k), cas ? { cas } : undefined)
    }
    await b.flush()
    return
  }
  const bee = subOf(db, op.sub)
  const cas = casRule(op.cas)
  if (op.t === 'put') await bee.put(buf(op.k), buf(op.v), cas ? { cas } : undefined)
  else if (op.t === 'del') await bee.del(buf(op.k), cas ? { cas } : undefined)
  else throw new Error('unknown op ' + op.t)
}

function rangeOpts(q) {
  const o = {}
  for (const f of ['gt', 'gte', 'lt', 'lte']) if (q[f] !== undefined && q[f] !== null) o[f] = buf(q[f])
  if (q.reverse) o.reverse = true
  if (q.limit) o.limit = q.limit
  return o
}

const entry = (e) => (e ? [e.seq, hex(e.key), hex(e.value)] : null)

async function query(db, q) {
  let bee = q.version ? db.checkout(q.version) : db
  bee = subOf(bee, q.sub)
  switch (q.q) {
    case 'get':
      return entry(await bee.get(buf(q.k)))
    case 'range': {
      const res = []
      for await (const e of bee.createReadStream(rangeOpts(q))) res.push(entry(e))
      return res
    }
    case 'history': {
      const o = {}
      for (const f of ['gt', 'gte', 'lt', 'lte', 'limit']) if (q[f]) o[f] = q[f]
      if (q.reverse) o.reverse = true
      const res = []
      for await (const e of bee.createHistoryStream(o)) res.push([e.type, e.seq, hex(e.key), hex(e.value)])
      return res
    }
    case 'diff': {
      const res = []
      for await (const d of bee.createDiffStream(q.other, rangeOpts(q))) res.push([entry(d.left), entry(d.right)])
      return res
    }
    case 'header': {
      const h = await db.getHeader()
      return { protocol: h.protocol, contentFeed: h.metadata ? hex(h.metadata.contentFeed) : null, userData: h.metadata ? hex(h.metadata.userData) : null }
    }
    case 'version':
      return bee.version
  }
  throw new Error('unknown query ' + q.q)
}

async function answer(db, queries) {
  const results = []
  for (const q of queries || []) {
    try {
      results.push(await query(db, q))
    } catch (err) {
      err.message += ' (query ' + JSON.stringify(q) + ', bee version ' + db.version + ')'
      throw err
    }
  }
  return results
}

function replicate(store, socket, isInitiator) {
  const s = store.replicate(isInitiator)
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
  closers.push(() => socket.destroy())
}

async function newStore() {
  const store = new Corestore(path.join(root, 'store' + n++))
  await store.ready()
  closers.push(() => store.close())
  return store
}

async function stored(core) {
  let k = 0
  for (let i = 0; i < core.length; i++) if (await core.has(i)) k++
  return k
}

const ops = {
  async seed({ ops, queries }) {
    const store = await newStore()
    const core = store.get({ name: 'bee' })
    const db = new Hyperbee(core)
    await db.ready()
    for (const op of ops) await applyOp(db, op)
    const results = await answer(db, queries)
    const server = net.createServer((socket) => replicate(store, socket, false))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(() => server.close())
    return { key: hex(core.key), length: core.length, port: server.address().port, results }
  },
  async read({ key, port, length, queries, probe }) {
    const store = await newStore()
    const core = store.get({ key: buf(key) })
    await core.ready()
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    replicate(store, socket, true)
    const deadline = Date.now() + 20000
    while (core.length < length) {
      if (Date.now() > deadline) throw new Error('core length ' + core.length + ', want ' + length)
      if (core.peers.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
      else await core.update({ wait: true })
    }
    const db = new Hyperbee(core)
    await db.ready()
    await db.get(buf(probe))
    const sparse = await stored(core)
    const results = await answer(db, queries)
    return { length: core.length, stored: sparse, results }
  }
}

const rl = readline.createInterface({ input: process.stdin })
let chain = Promise.resolve()
rl.on('line', (line) => {
  chain = chain.then(async () => {
    const msg = JSON.parse(line)
    if (msg.op === 'close') return finish()
    try {
      out(await ops[msg.op](msg))
    } catch (err) {
      out({ error: err.stack || String(err) })
    }
  })
})
rl.on('close', () => {
  chain = chain.then(finish)
})

async function finish() {
  for (const c of closers.reverse()) {
    try {
      await c()
    } catch {}
  }
  fs.rmSync(root, { recursive: true, force: true })
  process.exit(0)
}
