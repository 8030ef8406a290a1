// Drive workload, JS↔JS: mirrors bench/drive.go. The seeder (a child node
// process: `node drive.js seeder <big> <bigSize> <small> <smallSize>`)
// writes a hyperdrive of <big> files of <bigSize> bytes and <small> files
// of <smallSize> bytes in a corestore and serves the store on loopback TCP
// (store.replicate piped to the socket); this process is the fetcher: it
// dials, opens the drive by key, waits for the seeder's version and
// mirrors the drive into an empty folder (mirror-drive 1.14.2 into
// localdrive 2.2.1). It prints { value: MB/s, rss: peak RSS in MB (VmHWM) }
// where MB/s is the file bytes over the time from the dial to the mirror
// being done. Its folders are left in os.tmpdir() for the bench to remove
// when it ends (see bench/drive.go).
// Usage: node drive.js <big> <bigSize> <small> <smallSize>
const fs = require('fs')
const os = require('os')
const net = require('net')
const path = require('path')
const { spawn } = require('child_process')
const readline = require('readline')
const Corestore = require('corestore')
const Hyperdrive = require('hyperdrive')
const Localdrive = require('localdrive')
const MirrorDrive = require('mirror-drive')

// content is file i's bytes, as bench/drive.go makes them.
function content (i, size) {
  const b = Buffer.alloc(size)
  for (let j = 0; j < size; j++) b[j] = (i * 31 + j * 7 + (j >>> 9)) & 0xff
  return b
}

const bigName = (i) => '/big/' + String(i).padStart(3, '0') + '.bin'
const smallName = (i) => '/small/' + String(i % 10) + '/' + String(i).padStart(4, '0') + '.txt'

function peakRSS () {
  const m = /VmHWM:\s*(\d+)\s*kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss
}

function replicate (store, socket, isInitiator) {
  const s = store.replicate(isInitiator, { keepAlive: false })
  socket.pipe(s).pipe(socket)
  s.on('error', () => {})
  socket.on('error', () => {})
}

async function seeder (big, bigSize, small, smallSize) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-bench-drive-s-'))
  const store = new Corestore(dir)
  const drive = new Hyperdrive(store)
  await drive.ready()
  for (let i = 0; i < big; i++) await drive.put(bigName(i), content(i, bigSize))
  const batch = drive.batch()
  for (let i = 0; i < small; i++) await batch.put(smallName(i), content(big + i, smallSize))
  await batch.flush()
  const server = net.createServer((socket) => replicate(store, socket, false))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  process.stdout.write(JSON.stringify({ port: server.address().port, key: drive.key.toString('hex'), version: drive.version }) + '\n')
  // Runs until the fetcher closes stdin.
  process.stdin.resume()
  process.stdin.on('end', async () => {
    server.close()
    await drive.close()
    await store.close()
    process.exit(0)
  })
}

async function fetcher (big, bigSize, small, smallSize) {
  const child = spawn(process.execPath, [__filename, 'seeder', String(big), String(bigSize), String(small), String(smallSize)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const first = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error('seeder exited with ' + code)))
  })
  const { port, key, version } = JSON.parse(first)

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-bench-drive-f-'))
  const store = new Corestore(path.join(dir, 'store'))
  const drive = new Hyperdrive(store, Buffer.from(key, 'hex'))
  await drive.ready()
  const out = path.join(dir, 'out')
  const start = process.hrtime.bigint()
  const socket = net.connect(port, '127.0.0.1')
  replicate(store, socket, true)
  while (drive.version < version) {
    if (drive.core.peers.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    else await drive.update({ wait: true })
  }
  await new MirrorDrive(drive, new Localdrive(out)).done()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const rss = peakRSS()
  for (const i of [0, big - 1]) {
    if (!content(i, bigSize).equals(fs.readFileSync(path.join(out, bigName(i))))) throw new Error('file ' + bigName(i) + ' differs')
  }
  for (const i of [0, small - 1]) {
    if (!content(big + i, smallSize).equals(fs.readFileSync(path.join(out, smallName(i))))) throw new Error('file ' + smallName(i) + ' differs')
  }
  socket.destroy()
  await drive.close()
  await store.close()
  child.stdin.end()
  await new Promise((resolve) => child.once('exit', resolve))
  const bytes = big * bigSize + small * smallSize
  process.stdout.write(JSON.stringify({ value: bytes / seconds / 1e6, rss: rss / 1e6 }) + '\n')
}

const args = process.argv.slice(2)
const main = args[0] === 'seeder' ? seeder(...args.slice(1).map(Number)) : fetcher(...args.map(Number))
main.catch((err) => {
  console.error(err)
  process.exit(1)
})
