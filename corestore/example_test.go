package corestore_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
)

// The core named "db" at the root of a store with primary key 0x07…07
// (PROTOCOLS.md §5.11: JS's store.createKeyPair('db') gives this public
// key).
func ExampleDeriveKeyPair() {
	var primaryKey [32]byte
	for i := range primaryKey {
		primaryKey[i] = 7
	}
	kp := corestore.DeriveKeyPair(primaryKey, corestore.Namespace{}, "db")
	key := hypercore.DefaultManifest(kp.PublicKey).Hash()
	fmt.Printf("public key    %x\n", kp.PublicKey[:])
	fmt.Printf("core key      %x\n", key)
	fmt.Printf("discovery key %x\n", hcrypto.DiscoveryKey(key))
	// Output:
	// public key    275200b4a49e03c73debcb13866dc150d86461ee1289d9381ed60b454bda8313
	// core key      9d56810a89a0211db2a242b81ce8eac5265ac648769910177524c82908ab866d
	// discovery key 2cad275d1165e91ee87db9943190d3d130d0d9f821c7b70d552cac2a2358f451
}

// Namespaces nest as JS sessions do: store.namespace('app').namespace('v1')
// derives its cores in this namespace (TestDeriveKeyPairJS checks it
// against JS).
func ExampleNamespace_Child() {
	ns := corestore.Namespace{}.Child("app").Child("v1")
	fmt.Printf("%x\n", ns)
	// Output:
	// 4f888224123df85eba13995e810d4a3bdacffd24ace7d40a0890e04c08577096
}

// Two stores replicating in one process over net.Pipe: the writer's named
// core is read from the reader by its key. Replicate secures the pipe with
// a Noise handshake; over a real network the connection would come from
// net.Dial, a hyperswarm or a hyperdht.
func ExampleStore_Replicate() {
	ctx := context.Background()
	writer, err := corestore.Open(ctx, "writer", &corestore.Options{FS: vfs.NewMem()})
	if err != nil {
		log.Fatal(err)
	}
	defer writer.Close()
	core, err := writer.Get(ctx, corestore.Name("log"), nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := core.Append(ctx, []byte("hello"), []byte("world")); err != nil {
		log.Fatal(err)
	}

	reader, err := corestore.Open(ctx, "reader", &corestore.Options{FS: vfs.NewMem()})
	if err != nil {
		log.Fatal(err)
	}
	defer reader.Close()

	a, b := net.Pipe()
	if _, err := writer.Replicate(a, true); err != nil {
		log.Fatal(err)
	}
	if _, err := reader.Replicate(b, false); err != nil {
		log.Fatal(err)
	}

	replica, err := reader.Get(ctx, corestore.Key(core.Key()), nil)
	if err != nil {
		log.Fatal(err)
	}
	for i := range uint64(2) {
		block, err := replica.Get(ctx, i, nil) // waits for the writer
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(block))
	}
	fmt.Println(replica.Length(), replica.Writable())
	// Output:
	// hello
	// world
	// 2 false
}
