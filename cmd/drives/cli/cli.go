// Package cli is the drives command: seed, mirror and serve hyperdrives and
// folders, with the commands and flags of the JS drives 2.9 CLI (npm
// drives@2.9.1).
//
// The command is a library so that tests run it in-process:
// [RunWithContext] takes the arguments and the output streams, and main
// only adds a context that Ctrl-C cancels.
//
// # Commands
//
// init, touch, mirror, ls, seed, download, serve, put, entry, get, rm,
// info and purge, as in JS. A <src> or <dst> is a drive key (52 z-base-32
// or 64 hex characters, or a pear:// link) or a folder; as in JS, an
// argument holding a '/' or a '.' is a folder. Flags may come before or
// after the arguments. The corestore is found as JS finds it: .drives/corestore
// in the working folder or one of its parents, else ~/.drives/corestore;
// --storage DIR uses DIR/corestore.
//
// # Output
//
// stdout carries what a command is for (a listing, a file's content, a
// key); notices, progress bars (only when stderr is a terminal) and
// diagnostics go to stderr. --json makes a command print one JSON value
// for scripts; its fields are stable (new ones may be added). A failure is
// one line on stderr, "drives: <what went wrong>", and a non-zero exit.
//
// # Live mirroring
//
// mirror --live mirrors the source once, as mirror does, then keeps
// watching it and mirrors each change under --prefix as it comes, printing
// one line per file added, changed or removed, until interrupted (Ctrl-C,
// which ends it with exit status 0). As in JS drives, the keys that
// changed are compared with the destination and only those that differ
// are copied or removed; --filter applies to removals too. A drive source
// changes through the peers given with --connect, which --live therefore
// needs, and the replication with them goes on while live (when every
// connection ends, so does the mirror, with an error); a drive destination
// is served to the --connect peers while live. With --json, each run is
// one line of JSON (JSON Lines) with the fields of mirror --json: the
// first mirror, then one line for each change that copied or removed
// something; sourceVersion is the version of a drive source it mirrored.
//
// # Network
//
// Until hyperswarm is available, peers are reached over plain TCP:
// --connect HOST:PORT replicates the store with that peer over a
// secretstream (Noise) connection, and seed --listen HOST:PORT accepts
// such connections until interrupted. The wire is corestore's replication
// stream, so JS peers that run store.replicate over a TCP socket
// interoperate.
//
// # Differences from JS
//
//   - get writes the file's bytes as they are (JS adds a newline); get,
//     entry and rm of a missing entry fail instead of printing a notice.
//   - A key not in the storage is an error unless --connect is given (JS
//     creates it empty and looks for it on the swarm).
//   - The swarm (--bootstrap) is not implemented yet; --connect, --listen
//     and --timeout stand in for it.
//   - mirror --live polls a folder source for changes twice a second (JS
//     uses fs.watch); it refuses --version (a fixed version never changes),
//     a drive source without --connect, and a destination folder inside
//     the source folder.
//   - The storage notices ("Storage: ...", "new storage at ...") are
//     printed with --verbose only, on stderr.
//   - Exporting a drive to a folder skips, with a warning and a failing
//     exit, entries whose path would leave the folder (see mirror).
//   - purge of a drive the storage does not hold fails (JS creates it
//     empty and purges that); purge deletes the drive's db core and blobs
//     core, key pairs included, in one atomic write.
//   - No colours: ls marks folders with a trailing '/'.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// env is one run of the command: its output streams and the flags every
// command shares.
type env struct {
	stdout, stderr io.Writer

	storage string        // --storage
	json    bool          // --json
	verbose bool          // --verbose
	connect []string      // --connect (commands that read drives)
	timeout time.Duration // --timeout (waiting for peers)
}

// RunWithContext runs the drives command with args (without the program
// name), writing to stdout and stderr. It returns the command's error,
// after printing it on stderr as one line. ctx ends long-running commands
// (seed, serve) and interrupts the others; stores are closed either way.
func RunWithContext(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{stdout: stdout, stderr: stderr}
	root := e.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "drives: "+oneLine(err))
	}
	return err
}

// Main runs the drives command as a program does, returning its exit code:
// 0 on success, 1 on failure.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if RunWithContext(ctx, args, stdout, stderr) != nil {
		return 1
	}
	return 0
}

// oneLine returns err's message on one line.
func oneLine(err error) string {
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "interrupted"
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " ")
}

func (e *env) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "drives",
		Short:         "CLI to seed, mirror, and serve a Hyperdrive or Localdrive",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&e.storage, "storage", "", "Storage path (default: .drives in this folder or a parent, else ~/.drives)")
	root.PersistentFlags().BoolVar(&e.json, "json", false, "Print the result as JSON, for scripts")
	root.AddCommand(
		e.initCommand(),
		e.touchCommand(),
		e.mirrorCommand(),
		e.lsCommand(),
		e.seedCommand(),
		e.downloadCommand(),
		e.serveCommand(),
		e.putCommand(),
		e.entryCommand(),
		e.getCommand(),
		e.rmCommand(),
		e.infoCommand(),
		e.purgeCommand(),
	)
	return root
}

// netFlags adds the flags of commands that may fetch a drive from peers.
func (e *env) netFlags(c *cobra.Command) {
	c.Flags().StringArrayVar(&e.connect, "connect", nil, "Replicate with the peer at `HOST:PORT` over TCP (repeatable)")
	c.Flags().DurationVar(&e.timeout, "timeout", 15*time.Second, "How long to wait for a peer to connect and answer")
}

// printf writes a line of a command's output (not with --json).
func (e *env) printf(format string, args ...any) {
	if !e.json {
		fmt.Fprintf(e.stdout, format+"\n", args...)
	}
}

// infof writes a notice on stderr.
func (e *env) infof(format string, args ...any) {
	fmt.Fprintf(e.stderr, format+"\n", args...)
}

// debugf writes a notice on stderr with --verbose.
func (e *env) debugf(format string, args ...any) {
	if e.verbose {
		e.infof(format, args...)
	}
}

// printJSON writes v as the command's JSON output.
func (e *env) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(append(b, '\n'))
	return err
}

// stderrTerminal reports whether stderr is a terminal (progress bars are
// drawn only then).
func (e *env) stderrTerminal() bool {
	f, ok := e.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// byteSize formats n bytes as tiny-byte-size does for JS drives: "12 B",
// "1.5 kB", "3.1 MB" (powers of 1000).
func byteSize(n uint64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	f := float64(n)
	i := -1
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	s := fmt.Sprintf("%.1f", f)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[i]
}
