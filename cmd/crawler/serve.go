package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/crawler-dev/crawler/service"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c common
	c.register(fs)
	dir := fs.String("data", "crawler-data", "data directory: one sub-directory per job under jobs/")
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve the API and status page on")
	token := fs.String("token", "", "API token clients send as \"Authorization: Bearer TOKEN\" (default $CRAWLER_TOKEN)")
	maxJobs := fs.Int("max-jobs", 4, "jobs crawling at once; more wait queued")
	grace := fs.Duration("grace", 10*time.Second, "when a job stops, how long in-flight fetches may finish")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", pos[0])}
	}
	if *token == "" {
		*token = os.Getenv("CRAWLER_TOKEN")
	}
	if *token == "" {
		return usageError{"serve needs an API token: pass --token TOKEN or set CRAWLER_TOKEN (e.g. CRAWLER_TOKEN=$(openssl rand -hex 16))"}
	}
	if *maxJobs < 1 {
		return usageError{fmt.Sprintf("--max-jobs must be at least 1, got %d", *maxJobs)}
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	svc, err := service.Open(ctx, service.Options{Dir: *dir, Token: *token, MaxJobs: *maxJobs, Grace: *grace, Log: log})
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
