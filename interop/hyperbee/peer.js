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
const Hyperbee = require('hyperbee')
const { hex, buf, applyOp, answer } = require('../lib/beeops.js')
const { storePeer } = require('../lib/storepeer.js')

const { newStore, serve, dial, run } = storePeer('gopear-bee-peer-')

async function stored(core) {
  let k = 0
  for (let i = 0; i < core.length; i++) if (await core.has(i)) k++
  return k
}

run({
  async seed({ ops, queries }) {
    const store = await newStore()
    const core = store.get({ name: 'bee' })
    const db = new Hyperbee(core)
    await db.ready()
    for (const op of ops) await applyOp(db, op)
    const results = await answer(db, queries)
    const port = await serve(store)
    return { key: hex(core.key), length: core.length, port, results }
  },
  async read({ key, port, length, queries, probe }) {
    const store = await newStore()
    const core = store.get({ key: buf(key) })
    await core.ready()
    await dial(store, port)
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
})
