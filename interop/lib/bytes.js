// Test bytes shared by hyperblobs/blobs.js and the hyperdrive scripts.

// gen is the test content of those scripts and of the Go tests: 'mix'
// varies every byte, 'repeat' makes block k (of blockSize bytes) all bytes
// (k % 3) + seed, so a dedup writer finds repeated blocks.
function gen(pattern, seed, size, blockSize = 65536) {
  const b = Buffer.alloc(size)
  for (let j = 0; j < size; j++) {
    if (pattern === 'repeat') b[j] = (Math.floor(j / blockSize) % 3) + seed
    else b[j] = (seed * 31 + j * 7 + (j >>> 9)) & 0xff
  }
  return b
}

// writeChunks writes content into the write stream ws one write() per
// chunk, with chunk sizes taken in turn from chunks, ends it, and resolves
// once it closes.
function writeChunks(ws, content, chunks) {
  const done = new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('close', resolve)
  })
  for (let off = 0, k = 0; off < content.length; k++) {
    const n = chunks[k % chunks.length]
    ws.write(content.subarray(off, off + n))
    off += n
  }
  ws.end()
  return done
}

// readAll resolves to the bytes of a readable stream.
async function readAll(stream) {
  const bufs = []
  for await (const b of stream) bufs.push(b)
  return Buffer.concat(bufs)
}

// appendAll appends blocks (base64) to core as they are, 256 at a time.
async function appendAll(core, blocks) {
  const raw = blocks.map((b) => Buffer.from(b, 'base64'))
  for (let i = 0; i < raw.length; i += 256) await core.append(raw.slice(i, i + 256))
}

module.exports = { gen, writeChunks, readAll, appendAll }
