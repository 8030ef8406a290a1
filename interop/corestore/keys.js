// Named-core key derivation of corestore 7, for corestore/keys_test.go.
//
// stdin: a JSON array of { primaryKey, namespaces, name, nameHex, get,
//   manifestVersion }
//   primaryKey: hex of 32 bytes; namespaces: the names of the nested
//   store.namespace(...) calls, outermost first, as strings (utf8, as
//   corestore encodes them); the core name is `name` (a string) or, when
//   nameHex is set, those bytes (createKeyPair accepts a Buffer too); get:
//   also open the core with store.get({ name }) (corestore refuses empty
//   names there, and its storage fails on Buffer names, so createKeyPair is
//   the only way to derive those); manifestVersion: when set, the sessions
//   are made with { manifestVersion } (store.namespace(name, opts), or
//   store.session(opts) when there are no namespaces).
// stdout: a JSON array of { namespace, publicKey, core } where namespace is
//   the hex of the session's namespace, publicKey the public key of
//   createKeyPair(name), and core, when get is set, { key, discoveryKey,
//   publicKey, manifestVersion, writable }.
// One store per primary key ({ primaryKey, unsafe: true }) in a temporary
// folder, removed before exiting.
const fs = require('fs')
const os = require('os')
const path = require('path')
const Corestore = require('corestore')

const hex = (b) => Buffer.from(b).toString('hex')

async function main() {
  const cases = JSON.parse(fs.readFileSync(0, 'utf8'))
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gopear-corestore-keys-'))
  const stores = new Map()
  try {
    const out = []
    for (const c of cases) {
      let store = stores.get(c.primaryKey)
      if (!store) {
        store = new Corestore(path.join(root, String(stores.size)), {
          primaryKey: Buffer.from(c.primaryKey, 'hex'),
          unsafe: true
        })
        await store.ready()
        stores.set(c.primaryKey, store)
      }
      let session = store
      const opts = c.manifestVersion ? { manifestVersion: c.manifestVersion } : undefined
      for (const ns of c.namespaces || []) session = session.namespace(ns, opts)
      if (opts && session === store) session = store.session(opts)
      const name = c.nameHex !== undefined ? Buffer.from(c.nameHex, 'hex') : c.name
      const kp = await session.createKeyPair(name)
      const res = { namespace: hex(session.ns), publicKey: hex(kp.publicKey), core: null }
      if (c.get) {
        const core = session.get({ name })
        await core.ready()
        res.core = {
          key: hex(core.key),
          discoveryKey: hex(core.discoveryKey),
          publicKey: hex(core.keyPair.publicKey),
          manifestVersion: core.manifest.version,
          writable: core.writable
        }
        await core.close()
      }
      if (session !== store) await session.close()
      out.push(res)
    }
    process.stdout.write(JSON.stringify(out))
  } finally {
    for (const store of stores.values()) await store.close()
    fs.rmSync(root, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
