// Command crawler runs polite, resumable web crawls configured in YAML and
// stores pages, links and extracted items in SQLite.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/crawler-dev/crawler/crawl"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	announced := announcesStop(os.Args[1:])
	go func() {
		<-sigs
		if !announced {
			fmt.Fprintln(os.Stderr, "\n"+stopNotice)
		}
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "exiting now")
		os.Exit(130)
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a command-line mistake: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, crawl.ErrInterrupted):
		return 130
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "crawler:", err)
		return 2
	}
	fmt.Fprintln(stderr, "crawler:", err)
	return 1
}
