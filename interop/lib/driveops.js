// applyOp applies one hyperdrive op of hyperdrive/drive.js (its header
// comment describes them) to a drive or a batch; shared with
// hyperdrive/peer.js.
const { gen, writeChunks } = require('./bytes.js')

async function applyOp(drive, op) {
  const opts = {}
  if (op.executable) opts.executable = true
  if (op.metadata !== undefined) opts.metadata = op.metadata
  switch (op.t) {
    case 'put':
      return drive.put(op.path, gen(op.pattern, op.seed || 0, op.size || 0), opts)
    case 'stream': {
      const content = gen(op.pattern, op.seed || 0, op.size || 0)
      return writeChunks(drive.createWriteStream(op.path, opts), content, op.chunks)
    }
    case 'symlink':
      return drive.symlink(op.path, op.target, op.metadata !== undefined ? { metadata: op.metadata } : {})
    case 'del':
      return drive.del(op.path)
    case 'batch': {
      const b = drive.batch()
      for (const o of op.ops) await applyOp(b, o)
      return b.flush()
    }
  }
  throw new Error('unknown op ' + op.t)
}

module.exports = { applyOp }
