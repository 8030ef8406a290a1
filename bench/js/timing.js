// Shared timing helpers for the bench scripts: the same method as bench/main.go's
// rate(), growing batches until the duration has passed.
function rate (durationMs, op) {
  let n = 1
  let total = 0
  let elapsed = 0
  while (elapsed < durationMs) {
    const start = process.hrtime.bigint()
    op(n)
    elapsed += Number(process.hrtime.bigint() - start) / 1e6
    total += n
    if (n < (1 << 20)) n *= 2
  }
  return total / (elapsed / 1000)
}

async function rateAsync (durationMs, op) {
  let n = 1
  let total = 0
  let elapsed = 0
  while (elapsed < durationMs) {
    const start = process.hrtime.bigint()
    await op(n)
    elapsed += Number(process.hrtime.bigint() - start) / 1e6
    total += n
    if (n < (1 << 20)) n *= 2
  }
  return total / (elapsed / 1000)
}

function report (value) {
  process.stdout.write(JSON.stringify({ value }) + '\n')
}

module.exports = { rate, rateAsync, report }
