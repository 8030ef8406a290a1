// Leaf hashes of 1 KiB blocks with hypercore-crypto, one by one as JS
// hypercore hashes them. Mirrors bench/hcrypto.go.
const crypto = require('hypercore-crypto')
const { rate, report } = require('./timing.js')

const block = Buffer.alloc(1024, 0xab)
report(rate(2000, (n) => {
  for (let i = 0; i < n; i++) crypto.data(block)
}) * 1024 / 1e6)
