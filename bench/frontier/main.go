// Command frontier measures the store's frontier at scale: it enqueues URLs
// over many hosts with sqlite.DB.Add, and at each checkpoint measures its own
// memory and the cost of sqlite.DB.Claim on random hosts. The benchmark runs
// it as a separate process so that the memory it reports is the store's.
//
// The hosts are loopback IP literals, so that a crawl of the database never
// resolves a name: host i is http://A:PORT, where A is the i-th address from
// -first-addr on (skipping .0 and .255 in the last byte, as testsite does)
// and PORT is -port. Page p of a host is "/" for p = 0 and "/p/<p>" after,
// the paths of testsite's fast mode: a fast test site with the same first
// address and port and at least ceil(urls/hosts) pages per host serves every
// URL enqueued for the hosts it listens on; nothing listens on the others.
// Host i gets store host id i+1 (ids follow first sight, and the first
// batch names hosts in order), so a crawler, which activates hosts in id
// order, starts with the served ones.
//
// Each checkpoint prints one JSON line; the last line is a summary. With
// -dir the database is left there, closed, for a crawl of a slice of it.
//
//	frontier [-urls 10000000] [-hosts 100000] [-checkpoints 100000,1000000,5000000,10000000] [-max-time 8m]
//	         [-first-addr 127.1.0.1] [-port N] [-dir DIR]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

// Checkpoint is the state of the frontier at one size.
type Checkpoint struct {
	Queued        int     `json:"queued"`
	InsertSeconds float64 `json:"insert_seconds"` // cumulative time spent in Add
	InsertPerSec  float64 `json:"insert_per_sec"` // URLs per second since the previous checkpoint
	RSSKB         int     `json:"rss_kb"`         // VmRSS after the claims
	HWMKB         int     `json:"hwm_kb"`         // VmHWM so far
	GoHeapKB      int     `json:"go_heap_kb"`     // Go heap in use (the rest of RSS is SQLite's cache and the runtime)
	Claims        int     `json:"claims"`
	Claimed       int     `json:"claimed"`          // URLs leased by those claims
	ClaimUSPerOp  float64 `json:"claim_us_per_op"`  // mean µs per Claim call
	ClaimUSPerURL float64 `json:"claim_us_per_url"` // mean µs per leased URL
	ClaimUSMedian float64 `json:"claim_us_median"`  // median µs per Claim call, less moved by other load on the machine
	DBBytes       int64   `json:"db_bytes"`
}

// Summary is the last line printed.
type Summary struct {
	Done        bool    `json:"summary"`
	Target      int     `json:"target"`
	Reached     int     `json:"reached"`
	StoppedBy   string  `json:"stopped_by,omitempty"` // "max-time" when the time bound cut the run short
	Seconds     float64 `json:"seconds"`
	Hosts       int     `json:"hosts"`
	FirstOrigin string  `json:"first_origin"` // origin of host 0, store host id 1
	Port        int     `json:"port"`
	Checkpoints int     `json:"checkpoints"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "frontier:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("frontier", flag.ContinueOnError)
	total := fs.Int("urls", 10_000_000, "URLs to enqueue in all")
	hosts := fs.Int("hosts", 100_000, "hosts the URLs are spread over")
	batch := fs.Int("batch", 5000, "URLs per Add call (one transaction)")
	claims := fs.Int("claims", 2000, "Claim calls measured at each checkpoint")
	claimN := fs.Int("claim-n", 8, "URLs asked for per Claim call")
	marks := fs.String("checkpoints", "100000,1000000,5000000,10000000", "queue sizes at which to measure, comma-separated")
	maxTime := fs.Duration("max-time", 8*time.Minute, "stop enqueueing after this long and report the largest size reached")
	dir := fs.String("dir", "", "directory for the database (default: a new temporary directory, removed at the end)")
	seed := fs.Uint64("seed", 1, "random seed for the claimed hosts")
	firstAddr := fs.String("first-addr", "127.1.0.1", "address of host 0; further hosts take the following loopback addresses")
	port := fs.Int("port", 0, "port of every host's origin (0 = a port free on -first-addr now)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *hosts <= 0 || *total <= 0 || *batch <= 0 || *claims < 0 || *claimN <= 0 {
		return errors.New("-urls, -hosts, -batch and -claim-n must be positive")
	}
	points, err := parseMarks(*marks, *total)
	if err != nil {
		return err
	}
	addrs, err := loopbackAddrs(*firstAddr, *hosts)
	if err != nil {
		return err
	}
	if *port == 0 {
		if *port, err = freePort(addrs[0]); err != nil {
			return err
		}
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("-port %d out of range", *port)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "frontier-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	path := filepath.Join(*dir, "frontier.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	b := &bench{db: db, hosts: *hosts, rng: rand.New(rand.NewPCG(*seed, 2)), path: path, held: map[int64]store.HostToken{},
		addrs: addrs, port: ":" + strconv.Itoa(*port)}
	enc := json.NewEncoder(stdout)
	start := time.Now()
	sum := Summary{Done: true, Target: *total, Hosts: *hosts, FirstOrigin: b.origin(0), Port: *port}
	sum.Reached, sum.Checkpoints, sum.StoppedBy, err = b.run(ctx, enc, points, *batch, *claims, *claimN, *maxTime)
	// Closed before the summary: whoever reads it may open the database.
	if cerr := db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s: %w", path, cerr)
	}
	if err != nil {
		return err
	}
	sum.Seconds = time.Since(start).Seconds()
	return enc.Encode(sum)
}

// run fills the frontier up to each mark in turn, for at most maxTime, and
// prints a checkpoint at each. It returns the size reached, the number of
// checkpoints and, when maxTime cut it short, why.
func (b *bench) run(ctx context.Context, enc *json.Encoder, points []int, batch, claims, claimN int,
	maxTime time.Duration) (reached, checkpoints int, stoppedBy string, err error) {
	deadline := time.Now().Add(maxTime)
	lastMark, lastInsert := 0, 0.0
	for _, mark := range points {
		if err := b.fill(ctx, mark, batch, deadline); err != nil {
			return reached, checkpoints, "", err
		}
		cp, err := b.measure(ctx, claims, claimN)
		if err != nil {
			return reached, checkpoints, "", err
		}
		if d := cp.InsertSeconds - lastInsert; d > 0 {
			cp.InsertPerSec = float64(b.queued-lastMark) / d
		}
		lastMark, lastInsert = b.queued, cp.InsertSeconds
		if err := enc.Encode(cp); err != nil {
			return reached, checkpoints, "", err
		}
		reached, checkpoints = b.queued, checkpoints+1
		if b.queued < mark {
			return reached, checkpoints, fmt.Sprintf("max-time: %v passed before %d URLs were queued", maxTime, mark), nil
		}
	}
	return reached, checkpoints, "", nil
}

// bench holds the state of one frontier benchmark.
type bench struct {
	db       *sqlite.DB
	path     string
	hosts    int
	rng      *rand.Rand
	queued   int
	inserted time.Duration

	addrs [][4]byte                 // host i's address (4 bytes, not a netip.Addr's 24, for 100,000 hosts)
	port  string                    // ":PORT"
	held  map[int64]store.HostToken // host leases taken for claims
}

// origin returns host i's origin, http://A:PORT.
func (b *bench) origin(i int) string {
	return "http://" + netip.AddrFrom4(b.addrs[i]).String() + b.port
}

// fill enqueues URLs until the frontier holds n or the deadline passes.
// URL i is page i div hosts of host i mod hosts, so every batch touches many
// hosts, as a crawl's discoveries do.
func (b *bench) fill(ctx context.Context, n, batch int, deadline time.Time) error {
	buf := make([]store.NewURL, 0, batch)
	for b.queued < n && time.Now().Before(deadline) {
		buf = buf[:0]
		for len(buf) < batch && b.queued+len(buf) < n {
			i := b.queued + len(buf)
			h, p := i%b.hosts, i/b.hosts
			origin, path := b.origin(h), "/"
			if p > 0 {
				path = "/p/" + strconv.Itoa(p)
			}
			buf = append(buf, store.NewURL{
				URL: origin + path, Origin: origin, Depth: p % 8,
				Source: "seed", State: store.StateQueued,
			})
		}
		t := time.Now()
		if _, err := b.db.Add(ctx, buf); err != nil {
			return fmt.Errorf("add %d URLs at %d: %w", len(buf), b.queued, err)
		}
		b.inserted += time.Since(t)
		b.queued += len(buf)
	}
	return nil
}

// lease returns the bench's lease on host id, leasing it the first time:
// a claim is made under its host's lease, as the crawler makes it.
func (b *bench) lease(ctx context.Context, id int64) (store.HostToken, error) {
	if tok, ok := b.held[id]; ok {
		return tok, nil
	}
	hs, err := b.db.LeaseHosts(ctx, store.HostQuery{IDs: []int64{id}, Limit: 1}, 24*time.Hour)
	if err != nil {
		return store.HostToken{}, err
	}
	if len(hs) != 1 {
		return store.HostToken{}, fmt.Errorf("lease host %d: not leasable", id)
	}
	tok := store.HostToken{ID: id, Token: hs[0].Token}
	b.held[id] = tok
	return tok, nil
}

// measure claims from random hosts, then releases what it claimed so the
// frontier keeps its size, and reads the process's memory.
func (b *bench) measure(ctx context.Context, claims, n int) (Checkpoint, error) {
	cp := Checkpoint{Queued: b.queued, InsertSeconds: b.inserted.Seconds(), Claims: claims}
	var leased []store.Lease
	var spent time.Duration
	each := make([]time.Duration, 0, claims)
	for range claims {
		// Host ids are assigned in first-seen order, 1..hosts.
		id := int64(b.rng.IntN(min(b.hosts, b.queued))) + 1
		tok, err := b.lease(ctx, id)
		if err != nil {
			return cp, err
		}
		t := time.Now()
		ls, _, err := b.db.Claim(ctx, tok, n, time.Hour)
		d := time.Since(t)
		spent += d
		each = append(each, d)
		if err != nil {
			return cp, err
		}
		leased = append(leased, ls...)
	}
	cp.Claimed = len(leased)
	if claims > 0 {
		cp.ClaimUSPerOp = float64(spent.Microseconds()) / float64(claims)
	}
	if len(leased) > 0 {
		cp.ClaimUSPerURL = float64(spent.Microseconds()) / float64(len(leased))
	}
	if len(each) > 0 {
		slices.Sort(each)
		cp.ClaimUSMedian = float64(each[len(each)/2].Nanoseconds()) / 1e3
	}
	for len(leased) > 0 {
		k := min(len(leased), 5000)
		if err := b.db.Release(ctx, leased[:k]); err != nil {
			return cp, err
		}
		leased = leased[k:]
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cp.GoHeapKB = int(ms.HeapInuse >> 10)
	cp.RSSKB, cp.HWMKB = procStatus()
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(b.path + suffix); err == nil {
			cp.DBBytes += st.Size()
		}
	}
	return cp, nil
}

// procStatus reads VmRSS and VmHWM (in KiB) of this process.
func procStatus() (rss, hwm int) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.Atoi(f[0])
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// parseMarks parses the checkpoint list, keeping sizes up to total and
// ending with total.
func parseMarks(s string, total int) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("checkpoint %q: not a positive number", f)
		}
		if n < total {
			out = append(out, n)
		}
	}
	out = append(out, total)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// loopbackAddrs returns n IPv4 addresses from first on, as the test site
// gives them to its hosts, in 4 bytes each.
func loopbackAddrs(first string, n int) ([][4]byte, error) {
	as, err := testsite.LoopbackAddrs(first, n)
	if err != nil {
		return nil, fmt.Errorf("-first-addr: %w", err)
	}
	out := make([][4]byte, len(as))
	for i, a := range as {
		out[i] = a.As4()
	}
	return out, nil
}

// freePort returns a TCP port that is free on a now.
func freePort(a [4]byte) (int, error) {
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(netip.AddrFrom4(a), 0).String())
	if err != nil {
		return 0, fmt.Errorf("pick a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
