// The frame shared by the JS corestore peers (hyperbee/peer.js,
// hyperdrive/peer.js, drives/peer.js): corestores in a temporary folder,
// replicating with store.replicate(isInitiator) piped to a TCP socket on
// 127.0.0.1 (secret-stream + protomux; corestore throws on a raw socket
// passed as the stream), and a loop that runs one JSON command per line of
// stdin, in order, writing one JSON answer per line to stdout.
const Corestore = require('corestore')
const net = require('net')
const fs = require('fs')
const os = require('os')
const path = require('path')
const readline = require('readline')

// storePeer makes a temporary folder named after prefix and returns the
// helpers that use it; everything they open is closed by the 'close'
// command or at the end of stdin.
function storePeer(prefix) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
  const closers = []
  let n = 0

  function replicate(store, socket, isInitiator) {
    const s = store.replicate(isInitiator)
    socket.pipe(s).pipe(socket)
    s.on('error', () => {})
    socket.on('error', () => {})
    closers.push(() => socket.destroy())
  }

  // newStore opens a new corestore in its own folder.
  async function newStore() {
    const store = new Corestore(path.join(root, 'store' + n++))
    await store.ready()
    closers.push(() => store.close())
    return store
  }

  // serve replicates store with every TCP client, as the stream responder,
  // and returns the port it listens on.
  async function serve(store) {
    const server = net.createServer((socket) => replicate(store, socket, false))
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(() => server.close())
    return server.address().port
  }

  // dial connects to 127.0.0.1:port and replicates store as the initiator.
  async function dial(store, port) {
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    replicate(store, socket, true)
  }

  async function finish() {
    for (const c of closers.reverse()) {
      try {
        await c()
      } catch {}
    }
    fs.rmSync(root, { recursive: true, force: true })
    process.exit(0)
  }

  // run answers each command { op, ... } on stdin with ops[op](command);
  // { op: 'close' } closes everything and exits.
  function run(ops) {
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
  }

  return { newStore, serve, dial, run }
}

module.exports = { storePeer }
