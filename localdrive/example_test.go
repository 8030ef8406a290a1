package localdrive_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "localdrive")
	defer os.RemoveAll(dir)

	d, _ := localdrive.New(dir, nil)
	d.Put(ctx, "/docs/readme.txt", []byte("hello"), nil)
	d.Put(ctx, "bin/run.sh", []byte("#!/bin/sh\n"), &hyperdrive.PutOptions{Executable: true})
	d.Symlink(ctx, "/latest", "/docs/readme.txt")

	for _, key := range []string{"/docs/readme.txt", "/bin/run.sh", "/latest", "/docs"} {
		e, _ := d.Entry(ctx, key)
		switch {
		case e == nil:
			fmt.Println(key, "no entry")
		case e.Value.Linkname != "":
			fmt.Println(e.Key, "->", e.Value.Linkname)
		default:
			fmt.Println(e.Key, e.Value.Blob.ByteLength, "bytes, executable:", e.Value.Executable)
		}
	}
	data, _ := fs.ReadFile(d.FS(), "docs/readme.txt")
	fmt.Println(string(data))
	// Output:
	// /docs/readme.txt 5 bytes, executable: false
	// /bin/run.sh 10 bytes, executable: true
	// /latest -> /docs/readme.txt
	// /docs no entry
	// hello
}
