package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gopear/gopear/localdrive"
	"github.com/spf13/cobra"
)

// serveFlags are the flags of serve.
type serveFlags struct {
	host           string
	port           int
	disableAnyPort bool
}

func (e *env) serveCommand() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve <src>",
		Short: "Creates a HTTP drive server",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.serve(cmd.Context(), args[0], f)
		},
	}
	c.Flags().StringVar(&f.host, "host", "", "Bind to address (default: every address)")
	c.Flags().IntVar(&f.port, "port", 7000, "Bind to port")
	c.Flags().BoolVar(&f.disableAnyPort, "disable-any-port", false, "Disable random port if port in use")
	c.Flags().BoolVar(&e.verbose, "verbose", false, "Print more information")
	e.netFlags(c)
	return c
}

func (e *env) serve(ctx context.Context, arg string, f serveFlags) error {
	t, err := parseTarget(arg)
	if err != nil {
		return err
	}
	if !t.isKey {
		if err := mustBeFolder(t); err != nil {
			return err
		}
		d, err := localdrive.New(t.dir, &localdrive.Options{FollowLinks: true})
		if err != nil {
			return err
		}
		return e.serveFS(ctx, d.FS, f)
	}
	s, err := e.openSession(ctx)
	if err != nil {
		return err
	}
	err = func() error {
		d, err := s.openDrive(ctx, t.key, openOptions{})
		if err != nil {
			return err
		}
		if ctx, err = s.fetch(ctx, d); err != nil {
			return err
		}
		// Each request sees the drive's version at that time.
		return e.serveFS(ctx, d.FS, f)
	}()
	return errors.Join(err, s.close())
}

// serveFS serves the file system fsys returns, anew for each request,
// over HTTP until ctx ends. Files are served with http.ServeContent, so
// range requests work; paths under /.drives/ and /corestore/ are hidden, as
// JS drives hides them.
func (e *env) serveFS(ctx context.Context, fsys func() fs.FS, f serveFlags) error {
	addr := net.JoinHostPort(f.host, strconv.Itoa(f.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil && !f.disableAnyPort && f.port != 0 {
		ln, err = net.Listen("tcp", net.JoinHostPort(f.host, "0"))
	}
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %s", addr, dialReason(err))
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.ToLower(r.URL.Path)
		if strings.HasPrefix(p, "/.drives/") || strings.HasPrefix(p, "/corestore/") || p == "/.drives" || p == "/corestore" {
			http.NotFound(w, r)
			return
		}
		e.debugf("%s %s", r.Method, r.URL.Path)
		http.FileServerFS(fsys()).ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	la := ln.Addr().(*net.TCPAddr)
	host := la.IP.String()
	if la.IP.IsUnspecified() {
		host = "localhost"
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(la.Port))
	if e.json {
		if err := e.printJSON(map[string]any{"url": url, "address": la.String()}); err != nil {
			srv.Close()
			return err
		}
	} else {
		e.printf("HTTP server on %s", url)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	return nil
}
