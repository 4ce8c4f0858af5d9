package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/postgres"
)

const usage = `crawler: a polite, resumable web crawler that stores what it finds in SQLite or PostgreSQL.

Usage:
  crawler fetch [-c config.yaml] [--body | --json] URL
                                             one URL as the crawl sees it: robots, redirects, links, items
  crawler init URL [-o config.yaml] [--force] [--allow-addresses LIST]
                                             write a commented config for a site, with starter rules
  crawler check -c config.yaml               validate a config and show what a run would start with
  crawler run -c config.yaml [--urls FILE]   crawl (or resume) the job in config.yaml
  crawler demo [--dir DIR]                   crawl the built-in local demo site
  crawler serve --data DIR [--listen ADDR] [--token-file FILE] [--allow-addresses LIST]
                                             run jobs behind an HTTP API and status page
  crawler query [-c config.yaml | --db FILE] [--json] "SQL"
                                             read-only SQL, also while a crawl runs
  crawler status [-c config.yaml | --db FILE] counts by state and host, pages/s
  crawler explain [-c config.yaml | --db FILE] URL  why a URL was (or was not) crawled
  crawler hosts [-c config.yaml | --db FILE] [--json] per-host pace, backoff, queue and why slow
  crawler testsite [--hosts N] [--pages N]   serve the built-in test site on loopback
  crawler extract [-c config.yaml] URL|FILE  run the extraction rules on one page, print the items
  crawler reextract [-c config.yaml]         re-run the rules over stored bodies, fetching nothing
  crawler export --format jsonl|csv -o FILE  stream items, pages, links or changes, also while a crawl runs
  crawler changes [--since 24h] [--rule NAME] what appeared, changed and disappeared (recrawl)
  crawler copy --from DB --to DB [--name N]  move a crawl between SQLite and PostgreSQL (either way)
  crawler version

A database is a SQLite file or a postgres:// URL (CRAWLER_DATABASE replaces
the config's); on PostgreSQL, any number of "crawler run" workers share a crawl.

Common flags: --quiet, --log-format text|json.
Run "crawler COMMAND -h" for a command's flags.
`

// run is the whole program; main only adds signals and the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "fetch":
		return cmdFetch(ctx, rest, stdout, stderr)
	case "init":
		return cmdInit(ctx, rest, stdout, stderr)
	case "check":
		return cmdCheck(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "query":
		return cmdQuery(ctx, rest, stdout, stderr)
	case "status":
		return cmdStatus(ctx, rest, stdout, stderr)
	case "explain":
		return cmdExplain(ctx, rest, stdout, stderr)
	case "hosts":
		return cmdHosts(ctx, rest, stdout, stderr)
	case "testsite":
		return cmdTestsite(ctx, rest, stdout, stderr)
	case "extract":
		return cmdExtract(ctx, rest, stdout, stderr)
	case "reextract":
		return cmdReextract(ctx, rest, stdout, stderr)
	case "export":
		return cmdExport(ctx, rest, stdout, stderr)
	case "changes":
		return cmdChanges(ctx, rest, stdout, stderr)
	case "copy":
		return cmdCopy(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "crawler", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// stopNotice is printed when the first Ctrl-C (or SIGTERM) arrives.
const stopNotice = "stopping gracefully; press Ctrl-C again to exit at once (the database stays consistent)"

// announcesStop reports whether the command args run prints stopNotice
// itself: a crawl does, through its progress display, so that the
// display is not drawn twice around it.
func announcesStop(args []string) bool {
	return len(args) > 0 && (args[0] == "run" || args[0] == "demo")
}

// common holds flags every command accepts.
type common struct {
	quiet     bool
	logFormat string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.quiet, "quiet", false, "print only errors")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	level := slog.LevelInfo
	if c.quiet {
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format must be text or json, not %q", c.logFormat)}
}

// parseFlags parses flags allowing them before and after positional args.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// databaseEnv names the environment variable that overrides the database
// of every config file a command reads.
const databaseEnv = "CRAWLER_DATABASE"

// loadConfig reads a config file as every command does: CRAWLER_DATABASE,
// when set, replaces its database (so one config file can be run against
// PostgreSQL on several machines without editing it).
func loadConfig(path string) (*crawl.Config, error) {
	cfg, err := crawl.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if v := os.Getenv(databaseEnv); v != "" {
		cfg.Database = v
	}
	return cfg, nil
}

// nameFlag adds --name, the crawl to read in a PostgreSQL database.
func nameFlag(fs *flag.FlagSet) *string {
	return fs.String("name", "", "the crawl's name in a PostgreSQL database (default: the config's name, else "+
		store.DefaultCrawlName+")")
}

// dbPath finds the database and the crawl's name from --db, --name and
// the config file.
func dbPath(dbFlag, nameFlag, configFlag string) (database, name string, err error) {
	cfg, _, err := jobConfig(dbFlag, nameFlag, configFlag)
	if err != nil {
		return "", "", err
	}
	return cfg.Database, cfg.Name, nil
}

// showDatabase is how output names a database: a SQLite file by its
// path, a PostgreSQL crawl by the URL without its password and the
// crawl's name.
func showDatabase(database, name string) string {
	if store.IsPostgres(database) {
		return fmt.Sprintf("%s (crawl %s)", postgres.Redact(database), name)
	}
	return database
}

func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$`\\") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
