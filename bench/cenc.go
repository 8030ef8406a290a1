package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/internal/jsref"
)

// The cenc workload encodes and decodes a typical replication message: a
// hypercore "data" message carrying a 1 KiB block with its proof (10 tree
// nodes) and an upgrade (3 nodes, 2 additional nodes, a signature), laid out
// as hypercore 11's lib/messages.js wire.data lays it out. The JS side uses
// that very codec. Until gopear's hypercore package has its own message
// codecs, the Go side writes the layout here with cenc's primitives.

func init() {
	register(workload{
		name:  "cenc: encode+decode hypercore data message (1 KiB block + proof + upgrade)",
		unit:  "msgs/s",
		goal:  5,
		goRun: benchCencGo,
		jsRun: jsWorkload("bench/js/cenc.js"),
	})
}

type treeNode struct {
	index, size uint64
	hash        [32]byte
}

type dataMessage struct {
	request, fork uint64
	blockIndex    uint64
	value         []byte
	blockNodes    []treeNode
	upStart       uint64
	upLength      uint64
	upNodes       []treeNode
	upAdditional  []treeNode
	signature     []byte
}

const (
	flagBlock   = 1
	flagUpgrade = 8
)

// sampleDataMessage is the message both sides encode; bench/js/cenc.js builds
// the same one.
func sampleDataMessage() *dataMessage {
	m := &dataMessage{request: 42, fork: 0, blockIndex: 5000, value: bytes.Repeat([]byte{0xab}, 1024), upStart: 5000, upLength: 5001}
	node := func(i int) treeNode {
		n := treeNode{index: uint64(i * 37), size: uint64(1024 * (i + 1))}
		for j := range n.hash {
			n.hash[j] = byte(i + j)
		}
		return n
	}
	for i := range 10 {
		m.blockNodes = append(m.blockNodes, node(i))
	}
	for i := range 3 {
		m.upNodes = append(m.upNodes, node(100+i))
	}
	for i := range 2 {
		m.upAdditional = append(m.upAdditional, node(200+i))
	}
	m.signature = bytes.Repeat([]byte{0x5a}, 64)
	return m
}

func nodesLen(ns []treeNode) int {
	n := cenc.UintLen(uint64(len(ns)))
	for _, x := range ns {
		n += cenc.UintLen(x.index) + cenc.UintLen(x.size) + 32
	}
	return n
}

func appendNodes(b []byte, ns []treeNode) []byte {
	b = cenc.AppendUint(b, uint64(len(ns)))
	for _, x := range ns {
		b = cenc.AppendUint(b, x.index)
		b = cenc.AppendUint(b, x.size)
		b = append(b, x.hash[:]...)
	}
	return b
}

func decodeNodes(d *cenc.Decoder, dst []treeNode) []treeNode {
	n := d.Uint()
	if n > uint64(d.Remaining()) {
		d.Fail(cenc.ErrOutOfBounds)
		return nil
	}
	dst = dst[:0]
	for range n {
		dst = append(dst, treeNode{index: d.Uint(), size: d.Uint(), hash: d.Fixed32()})
	}
	return dst
}

func (m *dataMessage) len() int {
	return 1 + cenc.UintLen(m.request) + cenc.UintLen(m.fork) +
		cenc.UintLen(m.blockIndex) + cenc.BufferLen(len(m.value)) + nodesLen(m.blockNodes) +
		cenc.UintLen(m.upStart) + cenc.UintLen(m.upLength) + nodesLen(m.upNodes) + nodesLen(m.upAdditional) +
		cenc.BufferLen(len(m.signature))
}

func (m *dataMessage) append(b []byte) []byte {
	b = cenc.AppendUint(b, flagBlock|flagUpgrade)
	b = cenc.AppendUint(b, m.request)
	b = cenc.AppendUint(b, m.fork)
	b = cenc.AppendUint(b, m.blockIndex)
	b = cenc.AppendBuffer(b, m.value)
	b = appendNodes(b, m.blockNodes)
	b = cenc.AppendUint(b, m.upStart)
	b = cenc.AppendUint(b, m.upLength)
	b = appendNodes(b, m.upNodes)
	b = appendNodes(b, m.upAdditional)
	return cenc.AppendBuffer(b, m.signature)
}

func (m *dataMessage) decode(d *cenc.Decoder) {
	if flags := d.Uint(); flags != flagBlock|flagUpgrade {
		d.Fail(fmt.Errorf("%w: flags %d", cenc.ErrInvalid, flags))
		return
	}
	m.request = d.Uint()
	m.fork = d.Uint()
	m.blockIndex = d.Uint()
	m.value = d.Buffer()
	m.blockNodes = decodeNodes(d, m.blockNodes)
	m.upStart = d.Uint()
	m.upLength = d.Uint()
	m.upNodes = decodeNodes(d, m.upNodes)
	m.upAdditional = decodeNodes(d, m.upAdditional)
	m.signature = d.Buffer()
}

// checkCencAgainstJS makes sure both sides encode the same bytes before
// their speed is compared.
func checkCencAgainstJS(m *dataMessage) error {
	root, err := jsref.Root()
	if err != nil {
		return err
	}
	cmd, err := jsref.Command(filepath.Join(root, "bench/js/cenc.js"), "vector")
	if err != nil {
		return err
	}
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return fmt.Errorf("node bench/js/cenc.js vector: %v: %s", err, ee.Stderr)
		}
		return err
	}
	if got, want := hex.EncodeToString(m.append(nil)), strings.TrimSpace(string(out)); got != want {
		return fmt.Errorf("Go and JS encode the data message differently:\ngo %s\njs %s", got, want)
	}
	return nil
}

func benchCencGo(ctx context.Context) (float64, error) {
	m := sampleDataMessage()
	if err := checkCencAgainstJS(m); err != nil {
		return 0, err
	}
	buf := make([]byte, 0, m.len())
	var out dataMessage
	var d cenc.Decoder
	return rate(ctx, 2*time.Second, func(n int) error {
		for range n {
			buf = m.append(buf[:0])
			d.Reset(buf)
			out.decode(&d)
			if err := d.Err(); err != nil {
				return err
			}
		}
		return nil
	})
}
