// Hypercore workloads on a real hypercore 11 core in a temporary folder.
// Mirrors bench/hypercore.go. Usage: node hypercore.js <mode>, where mode is
//   append-batch  appends batches of 100 blocks of 1 KiB: blocks/s
//   append-batch-random  the same with random blocks: blocks/s
//   append        appends one 1 KiB block at a time: blocks/s
//   get           reads random blocks of a core of 10,000 blocks of 1 KiB: blocks/s
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')
const { rateAsync, report } = require('./timing.js')

function kib(i) {
  const b = Buffer.alloc(1024)
  for (let j = 0; j < b.length; j++) b[j] = (i + j) & 0xff
  return b
}

// randomBlock(i) is 1 KiB of a xorshift64 stream seeded with i+1, as the
// Go side makes it.
function randomBlock(i) {
  const b = Buffer.alloc(1024)
  let x = BigInt(i) + 1n
  const mask = (1n << 64n) - 1n
  for (let j = 0; j < b.length; j++) {
    x ^= (x << 13n) & mask
    x ^= x >> 7n
    x ^= (x << 17n) & mask
    b[j] = Number(x & 0xffn)
  }
  return b
}

async function main() {
  const mode = process.argv[2]
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-bench-hypercore-'))
  const core = new Hypercore(dir, { keyPair: crypto.keyPair(Buffer.alloc(32, 99)) })
  await core.ready()
  try {
    let value
    if (mode === 'append-batch') {
      const batch = []
      for (let i = 0; i < 100; i++) batch.push(kib(i))
      value = 100 * await rateAsync(2000, async (n) => {
        for (let i = 0; i < n; i++) await core.append(batch)
      })
    } else if (mode === 'append-batch-random') {
      const batch = []
      for (let i = 0; i < 100; i++) batch.push(randomBlock(i))
      value = 100 * await rateAsync(2000, async (n) => {
        for (let i = 0; i < n; i++) await core.append(batch)
      })
    } else if (mode === 'append') {
      const block = kib(0)
      value = await rateAsync(2000, async (n) => {
        for (let i = 0; i < n; i++) await core.append(block)
      })
    } else if (mode === 'get') {
      const n = 10000
      for (let i = 0; i < n; i += 100) {
        const batch = []
        for (let j = 0; j < 100; j++) batch.push(kib(i + j))
        await core.append(batch)
      }
      value = await rateAsync(2000, async (k) => {
        for (let i = 0; i < k; i++) await core.get(Math.floor(Math.random() * n))
      })
    } else {
      throw new Error('unknown mode ' + mode)
    }
    report(value)
  } finally {
    await core.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
