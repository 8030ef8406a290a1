package corestore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/goleak"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/secretstream"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// ctxT returns a context that ends with the test or after d.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// memStore opens a store on an in-memory file system, closed with the
// test.
func memStore(t testing.TB, opts *Options) *Store {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	o := *opts
	if o.FS == nil {
		o.FS = vfs.NewMem()
	}
	o.NoSync = true
	s, err := Open(context.Background(), "store", &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	return s
}

func mustGet(t testing.TB, s *Store, ref Ref, opts *GetOptions) *hypercore.Core {
	t.Helper()
	c, err := s.Get(context.Background(), ref, opts)
	if err != nil {
		t.Fatalf("Get(%v): %v", ref, err)
	}
	return c
}

func appendN(t testing.TB, c *hypercore.Core, prefix string, n int) {
	t.Helper()
	var bs [][]byte
	for i := range n {
		bs = append(bs, []byte(fmt.Sprintf("%s-%d", prefix, i)))
	}
	if _, err := c.Append(context.Background(), bs...); err != nil {
		t.Fatal(err)
	}
}

// checkBlocks reads every block of c (waiting for peers) and compares it
// with what appendN wrote.
func checkBlocks(t testing.TB, ctx context.Context, c *hypercore.Core, prefix string, n int) {
	t.Helper()
	for i := range n {
		b, err := c.Get(ctx, uint64(i), nil)
		if err != nil {
			t.Fatalf("%s block %d: %v", prefix, i, err)
		}
		if want := fmt.Sprintf("%s-%d", prefix, i); string(b) != want {
			t.Fatalf("block %d = %q, want %q", i, b, want)
		}
	}
}

func namedKey(pk [32]byte, ns Namespace, name string) hypercore.Key {
	return hypercore.Key(namedCoreAuth(pk, ns, name, 1).key)
}

func TestOpenPrimaryKey(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewMem()
	s, err := Open(ctx, "a", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	c := mustGet(t, s, Name("log"), nil)
	key := c.Key()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Append(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after store close: %v", err)
	}
	if _, err := s.Get(ctx, Name("log"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after close: %v", err)
	}
	if _, err := s.Replicate(nopStream{}, true); !errors.Is(err, ErrClosed) {
		t.Fatalf("Replicate after close: %v", err)
	}

	// Reopened, the stored primary key gives the same named core.
	s, err = Open(ctx, "a", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, Name("log"), nil).Key(); got != key {
		t.Fatalf("reopened store: key %s, was %s", got, key)
	}
	s.Close()

	other := [32]byte{1}
	if _, err := Open(ctx, "a", &Options{FS: fs, PrimaryKey: &other}); !errors.Is(err, ErrPrimaryKeyMismatch) {
		t.Fatalf("other primary key: %v", err)
	}

	// A given primary key is stored and used.
	pk := [32]byte{7, 7, 7}
	s2, err := Open(ctx, "b", &Options{FS: fs, PrimaryKey: &pk})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s2, Name("db"), nil).Key(); got != namedKey(pk, Namespace{}, "db") {
		t.Fatalf("key %s", got)
	}
	s2.Close()
	s2, err = Open(ctx, "b", &Options{FS: fs, PrimaryKey: &pk})
	if err != nil {
		t.Fatalf("reopening with the same primary key: %v", err)
	}
	if kp := s2.CreateKeyPair("db"); kp != DeriveKeyPair(pk, Namespace{}, "db") {
		t.Fatal("CreateKeyPair")
	}
	s2.Close()
}

type nopStream struct{}

func (nopStream) Read([]byte) (int, error)  { return 0, net.ErrClosed }
func (nopStream) Write([]byte) (int, error) { return 0, net.ErrClosed }
func (nopStream) Close() error              { return nil }

func TestGet(t *testing.T) {
	ctx := context.Background()
	pk := [32]byte{3}
	s := memStore(t, &Options{PrimaryKey: &pk})

	a1 := mustGet(t, s, Name("a"), nil)
	a2 := mustGet(t, s, Name("a"), nil)
	if a1.Key() != a2.Key() || a1.Key() != namedKey(pk, Namespace{}, "a") {
		t.Fatalf("keys %s %s", a1.Key(), a2.Key())
	}
	if !a1.Writable() {
		t.Fatal("named core not writable")
	}
	appendN(t, a1, "a", 3)
	if a2.Length() != 3 {
		t.Fatalf("second session sees length %d", a2.Length())
	}
	a1.Close()
	if a2.Length() != 3 {
		t.Fatal("closing one session closed the core")
	}

	// By key and by discovery key: the same shared core, writable since
	// the store holds its key pair.
	byKey := mustGet(t, s, Key(a1.Key()), nil)
	byDK := mustGet(t, s, DiscoveryKey(a1.DiscoveryKey()), nil)
	if byKey.Length() != 3 || byDK.Length() != 3 || !byKey.Writable() {
		t.Fatalf("by key: length %d, writable %v; by discovery key: length %d", byKey.Length(), byKey.Writable(), byDK.Length())
	}

	// A remote key: an empty, read-only core, created in the store.
	remote := hypercore.DefaultManifest(hcrypto.KeyPairFromSeed([32]byte{9}).PublicKey).Hash()
	if _, err := s.Get(ctx, Key(remote), &GetOptions{NoCreate: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("NoCreate of a core not stored: %v", err)
	}
	if ok, _ := s.Has(hypercore.DiscoveryKey(remote)); ok {
		t.Fatal("NoCreate created the core")
	}
	rc := mustGet(t, s, Key(remote), nil)
	if rc.Writable() || rc.Length() != 0 {
		t.Fatal("remote core")
	}
	if ok, _ := s.Has(hypercore.DiscoveryKey(remote)); !ok {
		t.Fatal("Get(Key) did not store the core")
	}
	if _, err := s.Get(ctx, DiscoveryKey(hypercore.Key{1}), nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown discovery key: %v", err)
	}
	if _, err := s.Get(ctx, Name("b"), &GetOptions{NoCreate: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("NoCreate of a new name: %v", err)
	}
	for _, bad := range []Ref{{}, Name(""), Key(hypercore.Key{})} {
		if _, err := s.Get(ctx, bad, nil); err == nil {
			t.Errorf("Get(%v) succeeded", bad)
		}
	}
	n := 0
	for dk, err := range s.DiscoveryKeys() {
		if err != nil {
			t.Fatal(err)
		}
		if dk != a1.DiscoveryKey() && dk != hypercore.DiscoveryKey(remote) {
			t.Errorf("unexpected core %s", dk)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d cores stored", n)
	}

	// Encryption keys are stored with the core.
	enc := mustGet(t, s, Name("secret"), &GetOptions{EncryptionKey: []byte("k")})
	if !enc.Encrypted() {
		t.Fatal("not encrypted")
	}
	enc.Close()
	if again := mustGet(t, s, Name("secret"), nil); !again.Encrypted() {
		t.Fatal("encryption key not kept")
	}
}

func TestNamespaces(t *testing.T) {
	pk := [32]byte{4}
	s := memStore(t, &Options{PrimaryKey: &pk})
	app := s.Namespace("app")
	v1 := app.Namespace("v1")
	if app.NamespaceKey() != (Namespace{}).Child("app") || v1.NamespaceKey() != (Namespace{}).Child("app").Child("v1") {
		t.Fatal("namespace keys")
	}
	root := mustGet(t, s, Name("db"), nil)
	inApp := mustGet(t, app, Name("db"), nil)
	inV1 := mustGet(t, v1, Name("db"), nil)
	if inApp.Key() != namedKey(pk, app.NamespaceKey(), "db") || inV1.Key() != namedKey(pk, v1.NamespaceKey(), "db") {
		t.Fatal("namespaced keys differ from DeriveKeyPair")
	}
	if root.Key() == inApp.Key() || inApp.Key() == inV1.Key() {
		t.Fatal("namespaces share a core")
	}
	if app.CreateKeyPair("db") != DeriveKeyPair(pk, app.NamespaceKey(), "db") {
		t.Fatal("CreateKeyPair in a namespace")
	}
	// A core is shared across namespaces: by key from the root.
	shared := mustGet(t, s, Key(inApp.Key()), nil)
	appendN(t, inApp, "x", 2)
	if shared.Length() != 2 {
		t.Fatal("namespaced core not shared")
	}

	// Closing a namespace closes its sessions only.
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := inApp.Append(context.Background(), []byte("y")); !errors.Is(err, ErrClosed) {
		t.Fatalf("session of a closed namespace: %v", err)
	}
	if _, err := app.Get(context.Background(), Name("db"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get on a closed namespace: %v", err)
	}
	if _, err := app.Namespace("x").Get(context.Background(), Name("db"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("namespace of a closed namespace: %v", err)
	}
	if _, err := shared.Append(context.Background(), []byte("z")); err != nil {
		t.Fatalf("root session after closing a namespace: %v", err)
	}
	if _, err := inV1.Append(context.Background(), []byte("z")); err != nil {
		t.Fatalf("child namespace session after closing its parent: %v", err)
	}
}

// A name keeps pointing to the core it was created as (its alias), even
// when asked for with another manifest version, as in JS.
func TestAlias(t *testing.T) {
	fs := vfs.NewMem()
	pk := [32]byte{5}
	ctx := context.Background()
	s, err := Open(ctx, "s", &Options{FS: fs, PrimaryKey: &pk, ManifestVersion: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := mustGet(t, s, Name("v2"), nil)
	if c.Manifest().Version != 2 || c.Key() != hypercore.Key(namedCoreAuth(pk, Namespace{}, "v2", 2).key) {
		t.Fatalf("manifest version %d", c.Manifest().Version)
	}
	key := c.Key()
	v1 := mustGet(t, s, Name("other"), &GetOptions{ManifestVersion: 1})
	if v1.Key() != namedKey(pk, Namespace{}, "other") {
		t.Fatal("GetOptions.ManifestVersion")
	}
	s.Close()

	s, err = Open(ctx, "s", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c = mustGet(t, s, Name("v2"), nil)
	if c.Key() != key || !c.Writable() {
		t.Fatalf("reopened by name: key %s writable %v, want %s", c.Key(), c.Writable(), key)
	}
	if _, err := Open(ctx, "t", &Options{FS: fs, ManifestVersion: 9}); err == nil {
		t.Fatal("manifest version 9 accepted")
	}
}

// pipeStores connects two stores with Replicate over a net.Pipe (raw, so
// Replicate runs the secret-stream handshake).
func pipeStores(t testing.TB, a, b *Store) (ra, rb *Replication) {
	t.Helper()
	ca, cb := net.Pipe()
	ra, err := a.Replicate(ca, true)
	if err != nil {
		t.Fatal(err)
	}
	rb, err = b.Replicate(cb, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 10*time.Second)
	if err := ra.WaitOpen(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rb.WaitOpen(ctx); err != nil {
		t.Fatal(err)
	}
	return ra, rb
}

func TestReplicate(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	fsA := vfs.NewMem()
	pkA := [32]byte{10}
	a, err := Open(ctx, "store", &Options{FS: fsA, PrimaryKey: &pkA, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	// Stored cores, not open when the stream starts.
	for _, name := range []string{"stored1", "stored2"} {
		c := mustGet(t, a, Name(name), nil)
		appendN(t, c, name, 20)
		c.Close()
	}
	a.Close()
	a = memStore(t, &Options{FS: fsA})
	open := mustGet(t, a, Name("open"), nil)
	appendN(t, open, "open", 50)
	ns := a.Namespace("ns")
	nsCore := mustGet(t, ns, Name("open"), nil)
	appendN(t, nsCore, "ns", 5)

	b := memStore(t, nil)
	// A core of b's opened before the stream: b asks for it at once.
	early := mustGet(t, b, Key(open.Key()), nil)
	ra, rb := pipeStores(t, a, b)

	if err := early.Download(ctx, hypercore.Range{}); err != nil {
		t.Fatal(err)
	}
	if _, err := early.Update(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, ctx, early, "open", 50)

	// Cores opened after the stream started, open at a or only stored.
	late := mustGet(t, b, Key(nsCore.Key()), nil)
	checkBlocks(t, ctx, late, "ns", 5)
	for _, name := range []string{"stored1", "stored2"} {
		if ok, err := a.Has(hypercore.DiscoveryKey(namedKey(pkA, Namespace{}, name))); !ok || err != nil {
			t.Fatalf("a does not hold %s: %v", name, err)
		}
		c := mustGet(t, b, Key(namedKey(pkA, Namespace{}, name)), nil)
		checkBlocks(t, ctx, c, name, 20)
		if c.Writable() {
			t.Fatal("replica is writable")
		}
	}

	// Live: appends at a reach b.
	appendN(t, open, "more", 3)
	if _, err := early.Get(ctx, 52, nil); err != nil {
		t.Fatal(err)
	}

	// A core a does not hold: a rejects the channel and creates nothing.
	unknown := hypercore.DefaultManifest(hcrypto.KeyPairFromSeed([32]byte{42}).PublicKey).Hash()
	u := mustGet(t, b, Key(unknown), nil)
	waitFor(t, "channel of an unknown core rejected", func() bool {
		return !rb.Mux().Opened(protocol, keyBytes(u.DiscoveryKey()))
	})
	if ok, _ := a.Has(u.DiscoveryKey()); ok {
		t.Fatal("a stored the core b asked for")
	}
	if _, err := u.Get(ctx, 0, &hypercore.GetOptions{Timeout: 100 * time.Millisecond}); err == nil {
		t.Fatal("got a block of an unknown core")
	}

	// Closing a's stream ends b's too.
	if err := ra.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ra.Err(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Err after Close: %v", err)
	}
	if err := rb.Wait(ctx); err == nil {
		t.Fatal("b's stream ended without error")
	}
	ra.Close()
}

func keyBytes(k hypercore.Key) []byte { return k[:] }

// waitFor polls cond for up to 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Three stores in a line: c downloads from a and b at once, which hold
// the same core (b replicated it from a).
func TestReplicateManyPeers(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	a, b, c := memStore(t, nil), memStore(t, nil), memStore(t, nil)
	w := mustGet(t, a, Name("log"), nil)
	appendN(t, w, "log", 300)
	pipeStores(t, a, b)
	mid := mustGet(t, b, Key(w.Key()), nil)
	if _, err := mid.Update(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := mid.Download(ctx, hypercore.Range{}); err != nil {
		t.Fatal(err)
	}
	if mid.ContiguousLength() != 300 {
		t.Fatal("b did not download everything")
	}
	pipeStores(t, a, c)
	pipeStores(t, b, c)
	r := mustGet(t, c, Key(w.Key()), nil)
	waitFor(t, "two peers", func() bool { return len(r.Peers()) == 2 })
	if _, err := r.Update(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Download(ctx, hypercore.Range{}); err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, ctx, r, "log", 300)
}

// Close of the store ends its streams, including one still in its
// handshake, and closes every session.
func TestCloseDuringHandshake(t *testing.T) {
	s := memStore(t, nil)
	ca, cb := net.Pipe()
	defer cb.Close()
	rep, err := s.Replicate(ca, true) // nobody answers
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rep.Done():
	default:
		t.Fatal("store closed with a stream running")
	}
	if !errors.Is(rep.Err(), net.ErrClosed) {
		t.Fatalf("Err = %v", rep.Err())
	}
	if err := rep.WaitOpen(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WaitOpen = %v", err)
	}
}

// A secured stream is used as it is; its role must match isInitiator.
func TestReplicateSecretStream(t *testing.T) {
	ctx := ctxT(t, 20*time.Second)
	a, b := memStore(t, nil), memStore(t, nil)
	w := mustGet(t, a, Name("x"), nil)
	appendN(t, w, "x", 10)
	ca, cb := net.Pipe()
	type result struct {
		c   *secretstream.Conn
		err error
	}
	server := make(chan result, 1)
	go func() {
		c, err := secretstream.Server(ctx, cb, nil)
		server <- result{c, err}
	}()
	sa, err := secretstream.Client(ctx, ca, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := <-server
	if res.err != nil {
		t.Fatal(res.err)
	}
	if _, err := a.Replicate(sa, false); err == nil {
		t.Fatal("Replicate accepted a stream of the other role")
	}
	if _, err := a.Replicate(sa, true); err != nil {
		t.Fatal(err)
	}
	rb, err := b.Replicate(res.c, false)
	if err != nil {
		t.Fatal(err)
	}
	r := mustGet(t, b, Key(w.Key()), nil)
	checkBlocks(t, ctx, r, "x", 10)
	if rb.Mux() == nil {
		t.Fatal("no mux on an open stream")
	}
}

// TestOpenWithKeyPair opens a core from a manifest and key pair (JS
// store.get({ manifest, keyPair })): it is writable, and a later Get by
// key finds it writable again, because its key pair is stored with it.
func TestOpenWithKeyPair(t *testing.T) {
	ctx := ctxT(t, 10*time.Second)
	s := memStore(t, nil)
	kp := s.CreateKeyPair("blobs")
	m := hypercore.DefaultManifest(kp.PublicKey)
	c, err := s.Open(ctx, &hypercore.Options{KeyPair: &kp, Manifest: m})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Writable() {
		t.Fatal("core opened with its key pair is not writable")
	}
	if got, want := c.Key(), hypercore.Key(m.Hash()); got != want {
		t.Fatalf("key %s, want the manifest hash %s", got, want)
	}
	appendN(t, c, "x", 3)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	again := mustGet(t, s, Key(hypercore.Key(m.Hash())), &GetOptions{NoCreate: true})
	if !again.Writable() || again.Length() != 3 {
		t.Fatalf("reopened by key: writable %v, length %d; want true, 3", again.Writable(), again.Length())
	}
}
