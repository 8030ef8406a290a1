// Replication workload, JS↔JS: mirrors bench/replicate.go. The writer (a
// child node process: `node replicate.js writer <n>`) appends n blocks of
// 1 KiB in batches of 1000 to a core and serves it on loopback TCP; this
// process is the reader: it dials, downloads the whole core into a core of
// its own and prints { value: MB/s, rss: peak RSS in MB (VmHWM) }. MB/s is
// the block bytes over the time from the dial to the download being done.
// Usage: node replicate.js <n>
const fs = require('fs')
const os = require('os')
const net = require('net')
const path = require('path')
const { spawn } = require('child_process')
const readline = require('readline')
const crypto = require('hypercore-crypto')
const Hypercore = require('hypercore')

function kib (i) {
  const b = Buffer.alloc(1024)
  for (let j = 0; j < b.length; j++) b[j] = (i + j) & 0xff
  return b
}

function peakRSS () {
  const m = /VmHWM:\s*(\d+)\s*kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss
}

async function writer (n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-bench-replicate-w-'))
  const core = new Hypercore(dir, { keyPair: crypto.keyPair(Buffer.alloc(32, 98)) })
  await core.ready()
  for (let i = 0; i < n; i += 1000) {
    const batch = []
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.push(kib(j))
    await core.append(batch)
  }
  const server = net.createServer((socket) => {
    const s = core.replicate(false, { keepAlive: false })
    socket.pipe(s).pipe(socket)
    s.on('error', () => {})
    socket.on('error', () => {})
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  process.stdout.write(JSON.stringify({ port: server.address().port, key: core.key.toString('hex') }) + '\n')
  // Runs until the reader closes stdin.
  process.stdin.resume()
  process.stdin.on('end', async () => {
    server.close()
    await core.close()
    fs.rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  })
}

async function reader (n) {
  const child = spawn(process.execPath, [__filename, 'writer', String(n)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const first = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error('writer exited with ' + code)))
  })
  const { port, key } = JSON.parse(first)

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-bench-replicate-r-'))
  const core = new Hypercore(dir, Buffer.from(key, 'hex'))
  await core.ready()
  const start = process.hrtime.bigint()
  const socket = net.connect(port, '127.0.0.1')
  const s = core.replicate(true, { keepAlive: false })
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
  while (core.length < n) await core.update({ wait: true })
  await core.download({ start: 0, end: n }).done()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  for (const i of [0, Math.floor(n / 2), n - 1]) {
    if (!kib(i).equals(await core.get(i))) throw new Error('block ' + i + ' differs')
  }
  const rss = peakRSS()
  socket.destroy()
  await core.close()
  fs.rmSync(dir, { recursive: true, force: true })
  child.stdin.end()
  await new Promise((resolve) => child.once('exit', resolve))
  process.stdout.write(JSON.stringify({ value: (n * 1024) / seconds / 1e6, rss: rss / 1e6 }) + '\n')
}

const main = process.argv[2] === 'writer' ? writer(Number(process.argv[3])) : reader(Number(process.argv[2]))
main.catch((err) => {
  console.error(err)
  process.exit(1)
})
