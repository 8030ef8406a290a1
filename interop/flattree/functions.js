// Prints flat-tree 1.13.0's answers for the indices, patches and iterator
// programs given on stdin as JSON:
//   { indices: [i...], patches: [[from, to]...], programs: [{ start, ops: [[name, arg?]...] }...] }
// and prints { indices: [{...}], patches: [[...]], programs: [[{ r, index, offset, factor }...]] }.
const flat = require('flat-tree')

let input = ''
process.stdin.on('data', (d) => { input += d })
process.stdin.on('end', () => {
  const req = JSON.parse(input)
  const out = { indices: [], patches: [], programs: [] }

  for (const i of req.indices || []) {
    const even = (i & 1) === 0
    out.indices.push({
      index: i,
      depth: flat.depth(i),
      offset: flat.offset(i),
      parent: flat.parent(i),
      sibling: flat.sibling(i),
      leftChild: flat.leftChild(i),
      rightChild: flat.rightChild(i),
      children: flat.children(i),
      leftSpan: flat.leftSpan(i),
      rightSpan: flat.rightSpan(i),
      spans: flat.spans(i),
      count: flat.count(i),
      countLeaves: flat.countLeaves(i),
      nextLeaf: flat.nextLeaf(i),
      fullRoots: even ? flat.fullRoots(i) : null,
      futureRoots: even ? flat.futureRoots(i) : null
    })
  }

  for (const [from, to] of req.patches || []) out.patches.push(flat.patch(from, to))

  for (const prog of req.programs || []) {
    const ite = flat.iterator(prog.start)
    const steps = []
    for (const [name, ...args] of prog.ops) {
      const r = ite[name](...args)
      steps.push({ r, index: ite.index, offset: ite.offset, factor: ite.factor })
    }
    out.programs.push(steps)
  }

  process.stdout.write(JSON.stringify(out))
})
