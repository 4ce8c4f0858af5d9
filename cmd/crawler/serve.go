package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/service"
	"github.com/crawler-dev/crawler/store"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	dir := fs.String("data", "crawler-data", "data directory: one sub-directory per job under jobs/")
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve the API and status page on")
	token := fs.String("token", "", "API token clients send as \"Authorization: Bearer TOKEN\"; other users of the machine see it in ps, "+
		"so prefer --token-file or $CRAWLER_TOKEN (default $CRAWLER_TOKEN)")
	tokenFile := fs.String("token-file", "", "file holding the API token, e.g. made by: openssl rand -hex 16 > FILE")
	var allow []string
	fs.Func("allow-addresses", "comma-separated private or loopback addresses, CIDRs or host names, each with an optional :port, "+
		"that jobs may list under fetch.allow_addresses (default: none; the flag may be repeated)", func(v string) error {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				allow = append(allow, a)
			}
		}
		return nil
	})
	var dbs []string
	fs.Func("databases", "a postgres:// URL that jobs may name as their database, each job's crawl there being the one "+
		"its config's name says (default: none, every job in a SQLite file of its own; the flag may be repeated)", func(v string) error {
		if !store.IsPostgres(v) {
			return fmt.Errorf("%q is not a postgres:// URL", v)
		}
		dbs = append(dbs, v)
		return nil
	})
	maxJobs := fs.Int("max-jobs", 4, "jobs crawling at once; more wait queued")
	grace := fs.Duration("grace", runner.DefaultGrace, "when a job stops, how long in-flight fetches may finish")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", pos[0])}
	}
	tok, err := serveToken(*token, *tokenFile)
	if err != nil {
		return err
	}
	if *maxJobs < 1 {
		return usageError{fmt.Sprintf("--max-jobs must be at least 1, got %d", *maxJobs)}
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	svc, err := service.Open(ctx, service.Options{Dir: *dir, Token: tok, AllowAddresses: allow, Databases: dbs, MaxJobs: *maxJobs, Grace: *grace,
		Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		svc.Close()
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(stdout, "serving jobs in %s on http://%s/ (status page: http://%s/?token=TOKEN)\n", *dir, ln.Addr(), ln.Addr())
	if err := svc.Serve(ctx, ln); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintln(stdout, "stopped; running jobs resume on the next start")
	return nil
}

// serveToken returns the API token from --token, --token-file or
// $CRAWLER_TOKEN, in that order. service.Open judges its length.
func serveToken(token, file string) (string, error) {
	switch {
	case token != "" && file != "":
		return "", usageError{"give the API token once: --token or --token-file, not both"}
	case token != "":
		return token, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read --token-file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", usageError{fmt.Sprintf("--token-file %s is empty", file)}
		}
		return tok, nil
	case os.Getenv("CRAWLER_TOKEN") != "":
		return os.Getenv("CRAWLER_TOKEN"), nil
	}
	return "", usageError{"serve needs an API token: --token-file FILE, or CRAWLER_TOKEN in the environment " +
		"(e.g. openssl rand -hex 16 > token; crawler serve --token-file token)"}
}
