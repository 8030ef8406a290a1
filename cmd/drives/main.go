// Command drives seeds, mirrors and serves hyperdrives and folders, with
// the commands and flags of the JS drives CLI. See package
// github.com/gopear/gopear/cmd/drives/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gopear/gopear/cmd/drives/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
