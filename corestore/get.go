package corestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
)

// Ref says which core [Store.Get] opens: [Name], [Key] or
// [DiscoveryKey]. The zero Ref names no core.
type Ref struct {
	kind refKind
	name string
	key  hypercore.Key
}

type refKind uint8

const (
	refNone refKind = iota
	refName
	refKey
	refDiscoveryKey
)

// Name refers to the core called name in the store's namespace (JS
// store.get({ name })): its key pair is derived from the store's primary
// key, the namespace and the name ([DeriveKeyPair]), so the core is
// writable, and the same primary key, namespace and name give the same
// core in every store, Go or JS. The name must not be empty, as in JS.
func Name(name string) Ref { return Ref{kind: refName, name: name} }

// Key refers to the core with key k (JS store.get({ key })): a core of
// another writer, read-only unless the store holds its key pair. It is
// created empty when the store does not hold it, unless
// [GetOptions.NoCreate]; peers then provide its manifest and blocks.
func Key(k hypercore.Key) Ref { return Ref{kind: refKey, key: k} }

// DiscoveryKey refers to the core with discovery key dk, which must be
// stored already (JS store.get({ discoveryKey })): Get fails with
// [ErrNotFound] otherwise.
func DiscoveryKey(dk hypercore.Key) Ref { return Ref{kind: refDiscoveryKey, key: dk} }

// String describes r for messages.
func (r Ref) String() string {
	switch r.kind {
	case refName:
		return fmt.Sprintf("name %q", r.name)
	case refKey:
		return "key " + r.key.String()
	case refDiscoveryKey:
		return "discovery key " + r.key.String()
	}
	return "no core"
}

// GetOptions configures [Store.Get]. A nil *GetOptions is valid and means
// the defaults.
type GetOptions struct {
	// EncryptionKey turns on block encryption with this key (JS
	// { encryption: { key } }; see hypercore.Options.EncryptionKey). nil
	// means the key stored with the core, if any; a key given when the
	// core is created is stored with it.
	EncryptionKey []byte

	// ManifestVersion is the manifest version of a named core Get
	// creates; 0 means the store's (Options.ManifestVersion). Ignored for
	// other references and for named cores already stored: those keep
	// the manifest they were created with.
	ManifestVersion int

	// NoCreate makes Get fail with ErrNotFound instead of creating a core
	// the store does not hold (JS { createIfMissing: false }).
	NoCreate bool
}

// Get opens the core ref refers to and returns a new session of it. Every
// Get of the same core, through any namespace, returns a session of one
// shared core (as hypercore.Store.Open does): appends through one are
// seen by all, and the core stays open until its last session is closed.
// Close the session when done with it; closing the store (or the
// namespace it came from) closes it too.
//
// The core is replicated on every stream of the store
// ([Store.Replicate]), those running now and those started later, for as
// long as it is open.
func (s *Store) Get(ctx context.Context, ref Ref, opts *GetOptions) (*hypercore.Core, error) {
	if opts == nil {
		opts = &GetOptions{}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	c, err := s.open(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	return s.track(c)
}

// check returns ErrClosed once s or its root is closed.
func (s *Store) check() error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.closed || s.r.closed {
		return ErrClosed
	}
	return nil
}

// open opens the core ref refers to in the database.
func (s *Store) open(ctx context.Context, ref Ref, opts *GetOptions) (*hypercore.Core, error) {
	hs := s.r.hs
	switch ref.kind {
	case refName:
		return s.openNamed(ctx, ref.name, opts)
	case refKey:
		if ref.key == (hypercore.Key{}) {
			return nil, errors.New("corestore: Get: zero key")
		}
		if opts.NoCreate {
			if err := s.mustHave(hypercore.DiscoveryKey(ref.key)); err != nil {
				return nil, err
			}
		}
		return hs.Open(ctx, &hypercore.Options{Key: ref.key, EncryptionKey: opts.EncryptionKey})
	case refDiscoveryKey:
		return hs.OpenDiscoveryKey(ctx, ref.key, &hypercore.Options{EncryptionKey: opts.EncryptionKey})
	}
	return nil, errors.New("corestore: Get: the zero Ref names no core")
}

// mustHave returns ErrNotFound when the database does not hold core dk.
func (s *Store) mustHave(dk hypercore.Key) error {
	ok, err := s.r.hs.Has(dk)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("corestore: core %s: %w", dk, ErrNotFound)
	}
	return nil
}

// openNamed opens the core called name in s's namespace (JS _preload and
// _auth for a name). A name stored as an alias opens the core the alias
// points to, as JS does; that is the core the name was first created as,
// even if the manifest version asked for differs. Otherwise the core of
// the derived key pair is opened, created if needed, and the alias is
// stored.
func (s *Store) openNamed(ctx context.Context, name string, opts *GetOptions) (*hypercore.Core, error) {
	if name == "" {
		return nil, errors.New("corestore: Get: empty name")
	}
	version := s.manifestVersion
	if opts.ManifestVersion != 0 {
		if err := checkManifestVersion(opts.ManifestVersion); err != nil {
			return nil, err
		}
		version = opts.ManifestVersion
	}
	hs := s.r.hs
	auth := namedCoreAuth(s.r.primaryKey, s.ns, name, version)
	aliased, err := hs.Alias(s.ns, name)
	hasAlias := err == nil
	switch {
	case hasAlias && aliased != hypercore.Key(auth.discoveryKey):
		return hs.OpenDiscoveryKey(ctx, aliased, &hypercore.Options{EncryptionKey: opts.EncryptionKey})
	case err != nil && !errors.Is(err, hypercore.ErrNotFound):
		return nil, err
	}
	if opts.NoCreate && !hasAlias {
		if err := s.mustHave(hypercore.Key(auth.discoveryKey)); err != nil {
			return nil, err
		}
	}
	kp := auth.keyPair
	c, err := hs.Open(ctx, &hypercore.Options{KeyPair: &kp, Manifest: auth.manifest, EncryptionKey: opts.EncryptionKey})
	if err != nil {
		return nil, err
	}
	if !hasAlias {
		if err := hs.SetAlias(s.ns, name, c.DiscoveryKey()); err != nil {
			return nil, errors.Join(fmt.Errorf("corestore: storing the name of %s: %w", c.Key(), err), c.Close())
		}
	}
	return c, nil
}

// track records c as handed out by s, and attaches it to every running
// replication stream.
func (s *Store) track(c *hypercore.Core) (*hypercore.Core, error) {
	r := s.r
	r.mu.Lock()
	if s.closed || r.closed {
		r.mu.Unlock()
		return nil, errors.Join(ErrClosed, c.Close())
	}
	r.sessions[c] = s
	if len(r.sessions) >= r.sweepNext {
		r.sweepLocked()
	}
	streams := r.liveStreamsLocked()
	r.mu.Unlock()
	for _, st := range streams {
		st.attach(c)
	}
	return c, nil
}

// sweepMin is the smallest number of handed-out sessions at which closed
// ones are swept out of root.sessions.
const sweepMin = 64

// sweepLocked forgets the handed-out sessions that were closed since the
// last sweep, and sets when to sweep next: once the map has doubled, so
// that sweeping costs O(1) per Get.
func (r *root) sweepLocked() {
	for c := range r.sessions {
		if sessionClosed(c) {
			delete(r.sessions, c)
		}
	}
	r.sweepNext = max(sweepMin, 2*len(r.sessions))
}

// openCoresLocked returns one live handed-out session of every core that
// has one: the cores a new replication stream carries from its start.
func (r *root) openCoresLocked() []*hypercore.Core {
	seen := make(map[hypercore.Key]bool)
	var out []*hypercore.Core
	for c := range r.sessions {
		if sessionClosed(c) {
			delete(r.sessions, c)
			continue
		}
		if dk := c.DiscoveryKey(); !seen[dk] {
			seen[dk] = true
			out = append(out, c)
		}
	}
	return out
}

// sessionClosed reports whether session c is closed. hypercore has no
// Closed method; Info fails with ErrClosed exactly when the session or
// its core is closed.
func sessionClosed(c *hypercore.Core) bool {
	_, err := c.Info()
	return errors.Is(err, hypercore.ErrClosed)
}

// signerManifest returns the manifest JS makes for a single key pair at
// manifest version v ({ version, signers: [{ publicKey }] }, completed by
// lib/verifier.js createManifest): quorum 1, the default signer
// namespace. For version 1 it is hypercore.DefaultManifest.
func signerManifest(pk hcrypto.PublicKey, version int) *hypercore.Manifest {
	m := hypercore.DefaultManifest(pk)
	m.Version = version
	return m
}

// Open opens a core from hypercore options (a key, a key pair, a manifest,
// an encryption key) in the store's database, creating it if needed, and
// returns a session of it that the store tracks and replicates as it does
// the cores of [Store.Get]. It is JS store.get({ key, keyPair, manifest })
// and makes a Store usable where a hypercore opener is asked for
// (hyperdrive.Store): a drive opens its blobs core by manifest and key pair.
func (s *Store) Open(ctx context.Context, opts *hypercore.Options) (*hypercore.Core, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	c, err := s.r.hs.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return s.track(c)
}
