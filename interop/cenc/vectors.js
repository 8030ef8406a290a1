// Test vectors for gopear's cenc package, produced by compact-encoding 3.5.2.
//
//   node cenc/vectors.js         prints [{codec, value, hex, rehex}] for every
//                                codec: the value as read back from hex, and
//                                its encoding
//   node cenc/vectors.js check   reads [{codec, hex}] on stdin and prints, for
//                                each, {ok, value, hex} (the decoded value and
//                                its re-encoding, or encodeError if JS cannot
//                                encode what it read) or {ok: false, error}
//
// Values are printed in a JSON form both sides agree on (see repr): numbers
// that JSON cannot hold and BigInts as strings, bytes as hex, dates as
// milliseconds, addresses as {host, port}, records as [key, value] pairs and
// `any` values as [type, value] pairs.

const c = require('compact-encoding')
const b4a = require('b4a')

const MAX = Number.MAX_SAFE_INTEGER
const buf = (hex) => b4a.from(hex, 'hex')
const bytes = (n, f = (i) => i & 0xff) => b4a.from(Array.from({ length: n }, (_, i) => f(i)))

const uints = [0, 1, 0x7f, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x100, 0xfffe, 0xffff, 0x10000, 0xffffff, 0x1000000,
  0xfffffffe, 0xffffffff, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 48 - 1, 2 ** 52, MAX - 1, MAX]
const ints = [0, 1, -1, 2, -2, 63, -64, 126, -127, 0x7fff, -0x8000, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 40),
  2 ** 52 - 1, -(2 ** 52)]
const upTo = (bits) => (n) => n < 2 ** bits
const intFits = (bits) => (n) => n >= -(2 ** (bits - 1)) && n < 2 ** (bits - 1)
const floats = [0, -0, 1, -1.5, 0.1, 1e300, -1e-300, 5e-324, 3.4028234663852886e38, Infinity, -Infinity, NaN, MAX]
const strings = ['', 'a', 'hello world', 'hé', '€', '😀', 'a\u0000b', '\ud800', 'x\udc00y', 'ascii only, but longer than sixty-four characters in total, surely', 'é'.repeat(40), 'x'.repeat(300)]
const big = [0n, 1n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 200n + 12345n]

const anyValues = [null, true, false, '', 'str', buf(''), buf('00ff'), 0, 1, 300, MAX, -1, -(2 ** 40), 1.5, -0.25, NaN, Infinity,
  [], [1, 'a', [null]], {}, { b: 1, a: { c: [true] } }, new Date(0), new Date(1700000000123), new Date(-1)]

const codecs = {
  uint: [c.uint, uints],
  uint8: [c.uint8, uints.filter(upTo(8))],
  uint16: [c.uint16, uints.filter(upTo(16))],
  port: [c.port, [0, 80, 49737, 65535]],
  uint24: [c.uint24, uints.filter(upTo(24))],
  uint32: [c.uint32, uints.filter(upTo(32))],
  uint32be: [c.uint32be, uints.filter(upTo(32))],
  uint40: [c.uint40, uints.filter(upTo(40))],
  uint48: [c.uint48, uints.filter(upTo(48))],
  uint56: [c.uint56, uints],
  uint64: [c.uint64, uints],
  uint64be: [c.uint64be, uints],
  int: [c.int, ints],
  int8: [c.int8, ints.filter(intFits(8))],
  int16: [c.int16, ints.filter(intFits(16))],
  int24: [c.int24, ints.filter(intFits(24))],
  int32: [c.int32, ints.filter(intFits(32))],
  int40: [c.int40, ints.filter(intFits(40))],
  int48: [c.int48, ints.filter(intFits(48))],
  int56: [c.int56, ints],
  int64: [c.int64, ints],
  biguint64: [c.biguint64, [0n, 1n, 2n ** 53n, 2n ** 64n - 1n]],
  bigint64: [c.bigint64, [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n)]],
  biguint: [c.biguint, big],
  bigint: [c.bigint, [...big, -1n, -(2n ** 64n), -(2n ** 64n) + 1n]],
  lexint: [c.lexint, [...uints.filter((n) => n < 2 ** 32 || n > 2 ** 32 + 250), 250, 251, 255, 256, 0xffff + 251, 2 ** 32 + 251, 2 ** 35 - 1, 2 ** 44, 2 ** 44 + 1, 2 ** 48 - 1, 2 ** 48 - 2, 2 ** 50 + 12345, MAX - 251, MAX - 252]],
  float32: [c.float32, [...floats, 1.100000023841858]],
  float64: [c.float64, floats],
  bool: [c.bool, [false, true]],
  none: [c.none, [null]],
  buffer: [c.buffer, [buf(''), buf('00'), bytes(0xfc), bytes(0xfd), bytes(0x10000)]],
  optionalBuffer: [c.optionalBuffer, [null, buf('01'), bytes(300)]],
  binary: [c.binary, [buf('0102'), 'text']],
  arraybuffer: [c.arraybuffer, [new ArrayBuffer(0), new Uint8Array([1, 2, 3]).buffer]],
  uint8array: [c.uint8array, [new Uint8Array([]), new Uint8Array([1, 255])]],
  uint16array: [c.uint16array, [new Uint16Array([]), new Uint16Array([1, 0xffff, 0x1234])]],
  uint32array: [c.uint32array, [new Uint32Array([1, 0x80000000]), new Uint32Array(300)]],
  int8array: [c.int8array, [new Int8Array([0, -1, 127, -128])]],
  int16array: [c.int16array, [new Int16Array([0, -1, 32767, -32768])]],
  int32array: [c.int32array, [new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31)])]],
  biguint64array: [c.biguint64array, [new BigUint64Array([0n, 2n ** 64n - 1n])]],
  bigint64array: [c.bigint64array, [new BigInt64Array([0n, -1n, -(2n ** 63n)])]],
  float32array: [c.float32array, [new Float32Array([0, -0, 1.5, Infinity, NaN])]],
  float64array: [c.float64array, [new Float64Array([0, -0, 0.1, -Infinity, NaN])]],
  bitarray: [c.bitarray, [[], [true], [true, false, true, true, false, false, false, false, true], Array.from({ length: 300 }, (_, i) => i % 3 === 0)]],
  string: [c.string, strings],
  ascii: [c.ascii, ['', 'abc', 'é€😀', '\u007f\u0080\u00ff']],
  hex: [c.hex, ['', '00', 'ab', 'ABcd', 'deadbeef', 'abc']],
  base64: [c.base64, ['', 'AQID', 'AQI=', 'AQ==', 'AQI', '-_8', 'A Q==', 'QQ=Q', 'QUJD====', '/+8A']],
  utf16le: [c.utf16le, ['', 'a', 'hé', '😀', '\ud800', 'x\udfffy']],
  utf8Fixed4: [c.utf8.fixed(4), ['abcd', 'éab', 'a€', 'ab\u0000\u0000']],
  hexFixed2: [c.hex.fixed(2), ['abcd', '0000']],
  asciiFixed3: [c.ascii.fixed(3), ['abc']],
  base64Fixed3: [c.base64.fixed(3), ['QUJD']],
  utf16leFixed4: [c.utf16le.fixed(4), ['ab', '😀']],
  fixed3: [c.fixed(3), [buf('010203')]],
  fixed8: [c.fixed8, [bytes(8)]],
  fixed16: [c.fixed16, [bytes(16)]],
  fixed24: [c.fixed24, [bytes(24)]],
  fixed32: [c.fixed32, [bytes(32), bytes(32, () => 0xff)]],
  fixed64: [c.fixed64, [bytes(64)]],
  raw: [c.raw, [buf(''), buf('0102ff')]],
  rawString: [c.raw.string, ['', 'hé😀']],
  rawHex: [c.raw.hex, ['', 'abcd']],
  rawUint32Array: [c.raw.uint32array, [new Uint32Array([1, 2])]],
  rawArrayUint: [c.raw.array(c.uint), [[], [1, 300, 2 ** 40]]],
  rawJSON: [c.raw.json, [{ a: 1 }, [1, 'x']]],
  arrayUint: [c.array(c.uint), [[], [1, 300], uints]],
  arrayString: [c.array(c.string), [[], ['a', '', 'hé']]],
  arrayArrayUint: [c.array(c.array(c.uint)), [[[], [1], [2, 3]]]],
  arrayNone: [c.array(c.none), [[null, null, null]]],
  frameString: [c.frame(c.string), ['', 'hello']],
  frameArrayUint: [c.frame(c.array(c.uint)), [[1, 300, 70000]]],
  date: [c.date, [new Date(0), new Date(1700000000123), new Date(-86400000)]],
  json: [c.json, [null, 1, 'x', [1, 2], { a: 1, b: [true, null], c: 'é' }]],
  ndjson: [c.ndjson, [null, { a: 1 }]],
  any: [c.any, anyValues],
  stringRecord: [c.stringRecord, [{}, { b: 'x', a: 'y' }]],
  recordUint: [c.record(c.string, c.uint), [{ z: 1, y: 300 }]],
  ipv4: [c.ipv4, ['0.0.0.0', '1.2.3.4', '255.255.255.255']],
  ipv6: [c.ipv6, ['::', '::1', 'fe80::1', '2001:db8:85a3::8a2e:370:7334', '1:2:3:4:5:6:7:8']],
  ip: [c.ip, ['1.2.3.4', '::1', 'ffff:0:0:0:0:0:0:1']],
  ipv4Address: [c.ipv4Address, [{ host: '1.2.3.4', port: 49737 }, { host: '10.0.0.1', port: 0 }]],
  ipv6Address: [c.ipv6Address, [{ host: '::1', port: 443 }, { host: 'fe80::abcd', port: 65535 }]],
  ipAddress: [c.ipAddress, [{ host: '127.0.0.1', port: 8080 }, { host: '2001:db8::1', port: 1 }]]
}

const recordCodecs = new Set(['stringRecord', 'recordUint'])
const addressCodecs = new Set(['ipv4Address', 'ipv6Address', 'ipAddress'])
const jsonCodecs = new Set(['json', 'ndjson', 'rawJSON'])

function num(n) {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  if (Object.is(n, -0)) return '-0'
  return n
}

function repr(v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'number') return num(v)
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (v instanceof Date) return v.getTime()
  if (v instanceof ArrayBuffer) return b4a.toString(new Uint8Array(v), 'hex')
  if (v instanceof Uint8Array) return b4a.toString(v, 'hex')
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Array.from(v, repr)
  throw new Error('no repr for ' + v)
}

function anyRepr(v) {
  if (v === null || v === undefined) return ['null', null]
  if (typeof v === 'boolean') return ['bool', v]
  if (typeof v === 'string') return ['string', v]
  if (b4a.isBuffer(v)) return ['buffer', b4a.toString(v, 'hex')]
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return [v >= 0 ? 'uint' : 'int', v + 0] // -0 is written as 0
    return ['float', num(v)]
  }
  if (Array.isArray(v)) return ['array', v.map(anyRepr)]
  if (v instanceof Date) return ['date', v.getTime()]
  return ['object', Object.entries(v).map(([k, x]) => [k, anyRepr(x)])]
}

function reprOf(name, v) {
  if (name === 'any') return anyRepr(v)
  if (jsonCodecs.has(name)) return v
  if (recordCodecs.has(name)) return Object.entries(v).map(([k, x]) => [k, repr(x)])
  if (addressCodecs.has(name)) return { host: v.host, port: v.port }
  return repr(v)
}

function enc(name) {
  const e = codecs[name]
  if (!e) throw new Error('unknown codec ' + name)
  return e[0]
}

function vectors() {
  const out = []
  for (const [name, [e, values]] of Object.entries(codecs)) {
    for (const v of values) {
      const b = c.encode(e, v)
      // Print the value as the reference reads it back, and its encoding,
      // so that inputs the codec does not keep (latin1 read as 7-bit ASCII,
      // lexint's rounding) compare as read.
      const read = c.decode(e, b)
      out.push({
        codec: name,
        value: reprOf(name, read),
        hex: b4a.toString(b, 'hex'),
        rehex: b4a.toString(c.encode(e, read), 'hex')
      })
    }
  }
  return out
}

function check(items) {
  return items.map(({ codec, hex }) => {
    const e = enc(codec)
    let v
    try {
      v = c.decode(e, buf(hex))
    } catch (err) {
      return { ok: false, error: err.message }
    }
    const out = { ok: true, value: reprOf(codec, v) }
    try {
      out.hex = b4a.toString(c.encode(e, v), 'hex')
    } catch (err) {
      out.encodeError = err.message
    }
    return out
  })
}

async function main() {
  if (process.argv[2] !== 'check') {
    process.stdout.write(JSON.stringify(vectors()))
    return
  }
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  process.stdout.write(JSON.stringify(check(JSON.parse(input))))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
