// A message-framed duplex over a byte stream (a TCP socket), for running
// protomux without secret-stream: each message is a u24 little-endian length
// followed by the message. Go's interop test frames the same way.
const { Duplex } = require('streamx')

function framed (socket) {
  let buffered = Buffer.alloc(0)
  const stream = new Duplex({
    write (data, cb) {
      const header = Buffer.alloc(3)
      header.writeUIntLE(data.byteLength, 0, 3)
      socket.write(Buffer.concat([header, data]))
      cb(null)
    },
    final (cb) {
      socket.end()
      cb(null)
    },
    predestroy () {
      socket.destroy()
    }
  })
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk])
    while (buffered.byteLength >= 3) {
      const n = buffered.readUIntLE(0, 3)
      if (buffered.byteLength < 3 + n) break
      stream.push(buffered.subarray(3, 3 + n))
      buffered = buffered.subarray(3 + n)
    }
  })
  socket.on('end', () => stream.push(null))
  socket.on('error', (err) => stream.destroy(err))
  socket.on('close', () => stream.destroy())
  return stream
}

module.exports = { framed }
