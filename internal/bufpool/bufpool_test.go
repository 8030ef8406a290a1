package bufpool

import "testing"

func TestClasses(t *testing.T) {
	for _, tc := range []struct{ n, class int }{
		{1, -1}, {MinSize - 1, -1}, {MinSize, 0}, {MinSize + 1, 1},
		{8 << 10, 1}, {64 << 10, 4}, {64<<10 + 1, 5}, {16 << 20, 12}, {16<<20 + 1, -1},
	} {
		if c := class(tc.n); c != tc.class {
			t.Errorf("class(%d) = %d, want %d", tc.n, c, tc.class)
		}
		b := Get(tc.n)
		if len(b) != 0 || cap(b) < tc.n {
			t.Errorf("Get(%d): len %d cap %d", tc.n, len(b), cap(b))
		}
		if tc.class < 0 && cap(b) != tc.n {
			t.Errorf("Get(%d): cap %d, want exactly n outside the classes", tc.n, cap(b))
		}
		if tc.class >= 0 && cap(b) != MinSize<<tc.class {
			t.Errorf("Get(%d): cap %d, want the class size %d", tc.n, cap(b), MinSize<<tc.class)
		}
		Put(append(b, 1))
	}
	Put(make([]byte, 0, 5000)) // not a class size: not kept
	if b := Get(5000); cap(b) != 8<<10 {
		t.Errorf("Get(5000) after putting a 5000-byte buffer: cap %d", cap(b))
	}
}
