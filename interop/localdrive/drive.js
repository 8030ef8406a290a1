// Answers questions about a folder with localdrive 2.2.1. Request on stdin
// (JSON):
//   { root, options: { followLinks, followExternalLinks },
//     metadata: { key: json } | null,      -> a Map as the metadata option
//     entries: [key], follows: [key],       -> entry(key) / entry(key, { follow: true })
//     lists: [{ folder, ignore: [path] | null }], readdirs: [folder],
//     reads: [{ key, start, length }],      -> createReadStream(key, { start, length }), hex
//     resolves: [[base, name]],             -> unix-path-resolve(base, name)
//     ops: [{ op: 'put', key, hex, executable } | { op: 'symlink', key, linkname }
//           | { op: 'del', key }] }          -> applied first, in order
// Prints { entries, follows, lists, readdirs, reads, resolves }; an entry is
// { key, value, mtime } or null, a failure is { error: message }.
const Localdrive = require('localdrive')
const resolve = require('unix-path-resolve')

const plain = (e) => e && { key: e.key, value: e.value, mtime: e.mtime }
const attempt = async (fn) => {
  try {
    return await fn()
  } catch (err) {
    return { error: err.message }
  }
}

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', async () => {
  const req = JSON.parse(input)
  const opts = { ...(req.options || {}) }
  if (req.metadata) opts.metadata = new Map(Object.entries(req.metadata))
  const drive = req.root ? new Localdrive(req.root, opts) : null
  for (const o of req.ops || []) {
    if (o.op === 'put') await drive.put(o.key, Buffer.from(o.hex || '', 'hex'), { executable: !!o.executable })
    else if (o.op === 'symlink') await drive.symlink(o.key, o.linkname)
    else if (o.op === 'del') await drive.del(o.key)
  }
  const out = { entries: [], follows: [], lists: [], readdirs: [], reads: [], resolves: [] }
  for (const key of req.entries || []) out.entries.push(await attempt(async () => plain(await drive.entry(key))))
  for (const key of req.follows || []) out.follows.push(await attempt(async () => plain(await drive.entry(key, { follow: true }))))
  for (const l of req.lists || []) {
    out.lists.push(await attempt(async () => {
      const all = []
      const o = l.ignore ? { ignore: l.ignore } : {}
      for await (const e of drive.list(l.folder, o)) all.push(plain(e))
      return all
    }))
  }
  for (const folder of req.readdirs || []) {
    out.readdirs.push(await attempt(async () => {
      const all = []
      for await (const name of drive.readdir(folder)) all.push(name)
      return all
    }))
  }
  for (const r of req.reads || []) {
    out.reads.push(await attempt(async () => {
      const chunks = []
      for await (const c of drive.createReadStream(r.key, { start: r.start, length: r.length })) chunks.push(c)
      return Buffer.concat(chunks).toString('hex')
    }))
  }
  for (const [a, b] of req.resolves || []) out.resolves.push(await attempt(async () => resolve(a, b)))
  process.stdout.write(JSON.stringify(out))
})
