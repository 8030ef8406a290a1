package hyperdrive

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecodeCanonical(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"executable":false,"linkname":null,"blob":{"blockOffset":1,"byteOffset":2,"blockLength":3,"byteLength":4},"metadata":null}`, true},
		{`{"executable":true,"linkname":null,"blob":{"blockOffset":0,"byteOffset":0,"blockLength":0,"byteLength":0},"metadata":null}`, true},
		{`{"executable":false,"linkname":"../ü/x","blob":null,"metadata":null}`, true},
		{`{"executable":false,"linkname":null,"blob":{"blockOffset":1,"byteOffset":2,"blockLength":3,"byteLength":4,"blockMap":true},"metadata":null}`, true},
		{`{"executable":false,"linkname":null,"blob":{"blockOffset":18446744073709551615,"byteOffset":2,"blockLength":3,"byteLength":4},"metadata":null}`, true},
		{`{"executable":false,"linkname":null,"blob":{"blockOffset":18446744073709551616,"byteOffset":2,"blockLength":3,"byteLength":4},"metadata":null}`, false},
		{`{"executable":false,"linkname":null,"blob":{"blockOffset":01,"byteOffset":2,"blockLength":3,"byteLength":4},"metadata":null}`, false},
		{`{"executable":false,"linkname":null,"blob":{"blockOffset":1.5,"byteOffset":2,"blockLength":3,"byteLength":4},"metadata":null}`, false},
		{`{"executable":false,"linkname":"a\"b","blob":null,"metadata":null}`, false},
		{`{"executable":false,"linkname":null,"blob":null,"metadata":{"a":1}}`, false},
		{`{"executable":false,"linkname":null,"blob":null,"metadata":null} `, false},
		{`{ "executable":false,"linkname":null,"blob":null,"metadata":null}`, false},
		{`{"executable":false,"linkname":null,"blob":null}`, false},
	} {
		v, ok := decodeCanonical([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("decodeCanonical(%s) ok = %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if ok {
			checkAsJSON(t, []byte(tc.in), v)
		}
	}
}

// checkAsJSON fails unless encoding/json decodes b as v.
func checkAsJSON(t *testing.T, b []byte, v EntryValue) {
	t.Helper()
	var want EntryValue
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: the fast path accepts what encoding/json refuses: %v", b, err)
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("%s: fast path %+v, encoding/json %+v", b, v, want)
	}
}

// FuzzDecodeCanonical: whatever the fast path accepts, encoding/json
// decodes the same.
func FuzzDecodeCanonical(f *testing.F) {
	f.Add([]byte(`{"executable":false,"linkname":null,"blob":{"blockOffset":1,"byteOffset":2,"blockLength":3,"byteLength":4},"metadata":null}`))
	f.Add([]byte(`{"executable":true,"linkname":"/x","blob":null,"metadata":null}`))
	f.Add([]byte(`{"executable":false,"linkname":null,"blob":{"blockOffset":1,"byteOffset":2,"blockLength":3,"byteLength":4,"blockMap":true},"metadata":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := decodeCanonical(b); ok {
			checkAsJSON(t, b, v)
		}
	})
}
