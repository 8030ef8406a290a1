// Mirrors one localdrive 2.2.1 folder into another with mirror-drive 1.14.2
// and prints what it did. Request on stdin (JSON):
//   { src, dst, srcMetadata: { key: json } | null, dstMetadata: … | null,
//     options: { prefix, prune, dryRun, includeEquals, batch, entries,
//                ignore: [path] | null,
//                filterExclude: [substring] | null } }  -> filter: key => no substring in key
// Prints { changes: [{ op, key, bytesRemoved, bytesAdded }], count,
//          bytesAdded, bytesRemoved, dstMetadata }.
const Localdrive = require('localdrive')
const MirrorDrive = require('mirror-drive')

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', async () => {
  const req = JSON.parse(input)
  const srcMeta = req.srcMetadata ? new Map(Object.entries(req.srcMetadata)) : null
  const dstMeta = req.dstMetadata ? new Map(Object.entries(req.dstMetadata)) : null
  const src = new Localdrive(req.src, srcMeta ? { metadata: srcMeta } : {})
  const dst = new Localdrive(req.dst, dstMeta ? { metadata: dstMeta } : {})
  const o = { ...(req.options || {}) }
  const exclude = o.filterExclude
  delete o.filterExclude
  if (exclude) o.filter = (key) => !exclude.some((s) => key.includes(s))
  if (!o.ignore) delete o.ignore
  if (!o.entries) delete o.entries
  const mirror = new MirrorDrive(src, dst, o)
  const changes = []
  for await (const c of mirror) changes.push({ op: c.op, key: c.key, bytesRemoved: c.bytesRemoved, bytesAdded: c.bytesAdded })
  process.stdout.write(JSON.stringify({
    changes,
    count: mirror.count,
    bytesAdded: mirror.bytesAdded,
    bytesRemoved: mirror.bytesRemoved,
    dstMetadata: dstMeta ? Object.fromEntries(dstMeta) : null
  }))
})
