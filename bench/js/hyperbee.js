// Hyperbee workloads on hyperbee 2.27.3 over a real hypercore 11 core in a
// temporary folder. Mirrors bench/hyperbee.go. Usage: node hyperbee.js <mode>,
// where mode is
//   put-batch  puts in batches of 1000 (keys scattered, 64-byte values): puts/s
//   get        random gets in a bee of 10,000 entries: gets/s
//   scan       full in-order scans of a bee of 10,000 entries: entries/s
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')
const Hyperbee = require('hyperbee')
const { rateAsync, report } = require('./timing.js')

const N = 10000

// key(i) is 8 hex digits of i scattered by a multiplicative hash, so that
// consecutive puts land all over the tree (as bench/hyperbee.go makes it).
function key(i) {
  const h = Number((BigInt(i) * 2654435761n) & 0xffffffffn)
  return Buffer.from(h.toString(16).padStart(8, '0'))
}

function value(i) {
  const b = Buffer.alloc(64)
  for (let j = 0; j < b.length; j++) b[j] = (i + j) & 0xff
  return b
}

async function fill(db, from, count) {
  const b = db.batch()
  for (let i = from; i < from + count; i++) await b.put(key(i), value(i))
  await b.flush()
}

async function main() {
  const mode = process.argv[2]
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-bench-hyperbee-'))
  const core = new Hypercore(dir, { keyPair: crypto.keyPair(Buffer.alloc(32, 98)) })
  const db = new Hyperbee(core)
  await db.ready()
  try {
    let value
    if (mode === 'put-batch') {
      let next = 0
      value = 1000 * await rateAsync(2000, async (n) => {
        for (let i = 0; i < n; i++) {
          await fill(db, next, 1000)
          next += 1000
        }
      })
    } else if (mode === 'get') {
      for (let i = 0; i < N; i += 1000) await fill(db, i, 1000)
      value = await rateAsync(2000, async (n) => {
        for (let i = 0; i < n; i++) {
          const e = await db.get(key(Math.floor(Math.random() * N)))
          if (!e) throw new Error('missing key')
        }
      })
    } else if (mode === 'scan') {
      for (let i = 0; i < N; i += 1000) await fill(db, i, 1000)
      value = N * await rateAsync(2000, async (n) => {
        for (let i = 0; i < n; i++) {
          let count = 0
          for await (const e of db.createReadStream()) count++ // eslint-disable-line
          if (count !== N) throw new Error('scan saw ' + count)
        }
      })
    } else {
      throw new Error('unknown mode ' + mode)
    }
    report(value)
  } finally {
    await db.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
