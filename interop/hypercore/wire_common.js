// Shared helpers of the hypercore wire interop scripts: the codecs by the
// names the Go tests use, and a JSON description of decoded values.
const c = require('compact-encoding')
const m = require('hypercore/lib/messages.js')

const codecs = {
  handshake: m.wire.handshake,
  sync: m.wire.sync,
  request: m.wire.request,
  cancel: m.wire.cancel,
  data: m.wire.data,
  noData: m.wire.noData,
  want: m.wire.want,
  unwant: m.wire.unwant,
  bitfield: m.wire.bitfield,
  range: m.wire.range,
  extension: m.wire.extension,
  reorgHint: m.wire.reorgHint,
  manifest: m.manifest,
  multiSignature: m.multiSignature,
  multiSignaturev0: m.multiSignaturev0
}

// describe turns a decoded value into JSON: bytes as hex, typed arrays and
// arrays as arrays, objects key by key.
function describe(v) {
  if (v === null || v === undefined) return null
  if (v instanceof Uint32Array) return Array.from(v)
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
  if (Array.isArray(v)) return v.map(describe)
  if (typeof v === 'object') {
    const out = {}
    for (const k of Object.keys(v)) out[k] = describe(v[k])
    return out
  }
  return v
}

// tryDecode decodes hex with the named codec and returns
// { ok, value, hex (re-encoded) } or { ok: false, error }.
function tryDecode(type, hex) {
  const enc = codecs[type]
  let v
  try {
    v = c.decode(enc, Buffer.from(hex, 'hex'))
  } catch (err) {
    return { ok: false, error: String(err.message || err) }
  }
  let re = null
  try {
    re = c.encode(enc, v).toString('hex')
  } catch (err) {
    return { ok: true, value: describe(v), hex: null, error: String(err.message || err) }
  }
  return { ok: true, value: describe(v), hex: re }
}

module.exports = { c, m, codecs, describe, tryDecode }
