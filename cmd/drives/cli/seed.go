package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/spf13/cobra"
)

func (e *env) seedCommand() *cobra.Command {
	var listen string
	c := &cobra.Command{
		Use:   "seed [key]",
		Short: "Seed a Hyperdrive to peers",
		Long: "Seed a Hyperdrive to peers until interrupted: accept replication connections with\n" +
			"--listen HOST:PORT, and replicate with the peers given with --connect HOST:PORT.\n" +
			"Without a key, seeds the storage's default drive (created if needed).",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if listen == "" && len(e.connect) == 0 {
				return errors.New("seed needs --listen HOST:PORT or --connect HOST:PORT (the swarm is not available yet)")
			}
			ctx := cmd.Context()
			var key hypercore.Key
			if len(args) == 1 {
				k, err := parseKey(args[0])
				if err != nil {
					return err
				}
				key = k
			} else {
				dir, err := findStorage(e.storage)
				if err != nil {
					return err
				}
				if key, err = createDrive(ctx, dir, ""); err != nil {
					return fmt.Errorf("opening the default drive: %w", err)
				}
			}
			s, err := e.openSession(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			d, err := s.openDrive(ctx, key, openOptions{})
			if err != nil {
				return err
			}
			var ln *listener
			if listen != "" {
				if ln, err = e.listen(listen); err != nil {
					return err
				}
				defer ln.close()
				ln.start(s.store)
			}
			if len(e.connect) > 0 {
				p, err := e.dial(ctx, s.store)
				if err != nil {
					return err
				}
				s.net = p
			}
			return e.seedLoop(ctx, d, ln)
		},
	}
	c.Flags().StringVar(&listen, "listen", "", "Accept peers on `HOST:PORT` (TCP); port 0 picks a free port")
	c.Flags().BoolVar(&e.verbose, "verbose", false, "Print more information")
	e.netFlags(c)
	return c
}

// seedJSON is what seed --json prints once it is serving.
type seedJSON struct {
	Key          string `json:"key"`
	DiscoveryKey string `json:"discoveryKey"`
	Version      uint64 `json:"version"`
	// Listen is the address peers connect to (with the port picked for
	// port 0); empty without --listen.
	Listen string `json:"listen"`
}

// downloadJSON is the output of download --json.
type downloadJSON struct {
	Key     string `json:"key"`
	Version uint64 `json:"version"`
	Files   int    `json:"files"`
	Bytes   uint64 `json:"bytes"`
}

// seedLoop says what is seeded and waits until ctx ends.
func (e *env) seedLoop(ctx context.Context, d *hyperdrive.Drive, ln *listener) error {
	addr := ""
	if ln != nil {
		addr = ln.ln.Addr().String()
	}
	if e.json {
		out := seedJSON{Key: d.Key().String(), DiscoveryKey: d.DiscoveryKey().String(), Version: d.Version(), Listen: addr}
		if err := e.printJSON(out); err != nil {
			return err
		}
	} else {
		e.printf("Seeding drive %s (version %d)", d.Key(), d.Version())
		if addr != "" {
			e.printf("Listening on %s", addr)
		}
	}
	<-ctx.Done()
	e.debugf("Closing")
	return nil
}

func (e *env) downloadCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "download <key>",
		Short: "Archive download a Hyperdrive by key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withKeyDrive(cmd.Context(), args[0], true, func(ctx context.Context, s *session, d *hyperdrive.Drive) error {
				if s.net == nil {
					if !d.Writable() && !complete(ctx, d) {
						return fmt.Errorf("drive %s is not fully stored in %s (use --connect HOST:PORT to fetch it from a peer)", d.Key(), s.dir)
					}
				}
				res, err := e.download(ctx, d)
				if err != nil {
					return fmt.Errorf("downloading drive %s: %w", d.Key(), err)
				}
				if e.json {
					return e.printJSON(downloadJSON{Key: d.Key().String(), Version: d.Version(), Files: res.Files, Bytes: res.Bytes})
				}
				e.printf("Download finished: %d files, %s (version %d)", res.Files, byteSize(res.Bytes), d.Version())
				return nil
			})
		},
	}
	e.netFlags(c)
	return c
}
