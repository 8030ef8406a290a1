// Verifies each { publicKey, message, signature } on stdin (JSON array, hex)
// with hypercore-crypto 3.7.0's verify (libsodium
// crypto_sign_verify_detached) and prints the results as a JSON array of
// booleans.
const crypto = require('hypercore-crypto')

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const cases = JSON.parse(input)
  const out = cases.map((c) => crypto.verify(
    Buffer.from(c.message, 'hex'),
    Buffer.from(c.signature, 'hex'),
    Buffer.from(c.publicKey, 'hex')
  ))
  process.stdout.write(JSON.stringify(out))
})
