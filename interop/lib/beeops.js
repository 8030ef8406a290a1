// The hyperbee ops and queries shared by hyperbee/bee.js and
// hyperbee/peer.js (their header comments describe the formats). Keys and
// values are hex.
const hex = (b) => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'))
const buf = (h) => Buffer.from(h, 'hex')

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
      const out = []
      for await (const e of bee.createReadStream(rangeOpts(q))) out.push(entry(e))
      return out
    }
    case 'history': {
      const o = {}
      for (const f of ['gt', 'gte', 'lt', 'lte', 'limit']) if (q[f]) o[f] = q[f]
      if (q.reverse) o.reverse = true
      const out = []
      for await (const e of bee.createHistoryStream(o)) out.push([e.type, e.seq, hex(e.key), hex(e.value)])
      return out
    }
    case 'diff': {
      const out = []
      for await (const d of bee.createDiffStream(q.other, rangeOpts(q))) out.push([entry(d.left), entry(d.right)])
      return out
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

// answer runs the queries in order on db and returns their results.
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

module.exports = { hex, buf, applyOp, answer }
