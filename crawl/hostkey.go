package crawl

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/crawler-dev/crawler/crawl/urlnorm"
)

// hostKey is a host as the config names one: its name as a canonical URL
// writes it (IPv6 without brackets), and the port a URL must connect to,
// or 0 for any.
type hostKey struct {
	name string
	port uint16
}

// String writes the host as a user writes it in scope.hosts.
func (k hostKey) String() string {
	name := k.name
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	if k.port == 0 {
		return name
	}
	return name + ":" + strconv.Itoa(int(k.port))
}

// parseHostKey reads a host written in a config, "host" (any port) or
// "host:port", into the form canonical URLs write the host in:
// "Bücher.example." is xn--bcher-kva.example. It is the one reader of
// hosts in a config: scope.hosts, the keys of politeness.hosts and
// fetch.hosts, and the host names of fetch.allow_addresses, so that each
// of them is compared with canonical URLs as an equal.
func parseHostKey(entry string) (hostKey, error) {
	u, err := url.Parse("http://" + entry)
	if err != nil || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return hostKey{}, fmt.Errorf("%q is not a host name (write example.com or example.com:8080)", entry)
	}
	var k hostKey
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return hostKey{}, fmt.Errorf("%q: port %q is not a number from 1 to 65535", entry, p)
		}
		k.port = uint16(n)
	}
	name := u.Hostname()
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	norm, err := urlnorm.New(urlnorm.Options{}) // the options concern paths and queries
	if err != nil {
		return hostKey{}, err
	}
	c, err := norm.CanonicalString("http://" + name + "/")
	if err != nil {
		return hostKey{}, fmt.Errorf("%q is not a host name: %w", entry, err)
	}
	cu, err := url.Parse(c)
	if err != nil {
		return hostKey{}, fmt.Errorf("%q is not a host name: %w", entry, err)
	}
	k.name = cu.Hostname()
	return k, nil
}

// hostMap holds settings per host, keyed as politeness.hosts and
// fetch.hosts are: "host" for every port, "host:port" for one.
type hostMap[V any] map[hostKey]V

// newHostMap reads the keys of a per-host config map. It returns the
// entries whose keys it could read, and an error naming the first key
// (in sorted order) that is no host or names the same host as another.
func newHostMap[V any](m map[string]V) (hostMap[V], error) {
	out := make(hostMap[V], len(m))
	written := map[hostKey]string{}
	var first error
	for _, raw := range slices.Sorted(maps.Keys(m)) {
		k, err := parseHostKey(raw)
		if err == nil {
			if prev, dup := written[k]; dup {
				err = fmt.Errorf("%q names the same host as %q", raw, prev)
			}
		}
		if err != nil {
			if first == nil {
				first = &hostKeyError{Key: raw, Err: err}
			}
			continue
		}
		written[k] = raw
		out[k] = m[raw]
	}
	return out, first
}

// hostKeyError is a key of a per-host map that newHostMap refused.
type hostKeyError struct {
	Key string // as written
	Err error
}

func (e *hostKeyError) Error() string { return e.Err.Error() }
func (e *hostKeyError) Unwrap() error { return e.Err }

// lookup returns the settings of the host a canonical URL connects to:
// those of its host and port, else those of its host on every port.
func (m hostMap[V]) lookup(u *url.URL) (V, bool) {
	name, port := u.Hostname(), urlPort(u)
	if v, ok := m[hostKey{name: name, port: port}]; ok {
		return v, true
	}
	v, ok := m[hostKey{name: name}]
	return v, ok
}
