package localdrive

import (
	"bytes"
	"context"
	"sync"
)

// MetadataMap is a [MetadataStore] in memory, what JS localdrive makes of a
// Map given as its metadata option. The zero value is ready to use; it is
// safe for concurrent use.
type MetadataMap struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMetadataMap returns an empty MetadataMap.
func NewMetadataMap() *MetadataMap { return &MetadataMap{} }

// Get returns a copy of the metadata of key, nil when there is none.
func (m *MetadataMap) Get(ctx context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.m[key]), nil
}

// Put stores a copy of value as the metadata of key.
func (m *MetadataMap) Put(ctx context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string][]byte)
	}
	m.m[key] = bytes.Clone(value)
	return nil
}

// Del forgets the metadata of key.
func (m *MetadataMap) Del(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}
