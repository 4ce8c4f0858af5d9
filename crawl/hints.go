package crawl

import (
	"net/url"
	"strings"
)

// reasonKeys map the start of a reason the crawl gives for skipping or
// refusing a URL to the config key that decides it. The reasons are
// written by scope.check, preflight, the address guard and the redirect
// and robots rules; each names its limit, and this table says where that
// limit is set.
var reasonKeys = []struct{ prefix, key string }{
	{"blocked address", "fetch.allow_addresses"},
	{"out of scope: host", "scope.hosts"},
	{"out of scope: matches no include", "scope.include"},
	{"out of scope: matches exclude", "scope.exclude"},
	{"robots.txt", "politeness.obey_robots"},
	{"disallowed by robots.txt", "politeness.obey_robots"},
	{"depth ", "limits.max_depth"},
	{"trap: URL length", "limits.max_url_length"},
	{"trap: template", "limits.max_template_chain"},
	{"trap: more than max_query_variants", "limits.max_query_variants"},
	{"host page budget", "limits.max_pages_per_host"},
	{"redirect chain longer", "limits.max_redirects"},
	{"proxy: ", "fetch.proxy"},
}

// ReasonKey returns the config key that decides a reason the crawl gave
// for skipping or refusing a URL (frontier.reason), or "" when no setting
// changes it (an HTTP status, an unreachable server).
func ReasonKey(reason string) string {
	for _, r := range reasonKeys {
		if strings.HasPrefix(reason, r.prefix) {
			return r.key
		}
	}
	switch {
	case strings.HasPrefix(reason, "trap:") && strings.Contains(reason, "max_path_segments"):
		return "limits.max_path_segments"
	case strings.HasPrefix(reason, "trap:") && strings.Contains(reason, "max_repeated_segments"):
		return "limits.max_repeated_segments"
	}
	return ""
}

// ReasonHint says, for a reason the crawl gave for not fetching rawURL,
// which setting changes it and how: "list 127.0.0.1 (or 127.0.0.1:8080)
// under fetch.allow_addresses to allow it". It returns "" when no setting
// changes it.
func ReasonHint(reason, rawURL string) string {
	key := ReasonKey(reason)
	switch key {
	case "":
		return ""
	case "fetch.allow_addresses":
		if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
			if u.Port() != "" {
				return "list " + u.Hostname() + " (or only its port, " + u.Host + ") under fetch.allow_addresses to allow it"
			}
			return "list " + u.Hostname() + " under fetch.allow_addresses to allow it"
		}
		return "list the address under fetch.allow_addresses to allow it"
	case "scope.hosts":
		return "add the host to scope.hosts (or, while scope.hosts is empty, to the seeds), or set scope.subdomains"
	case "politeness.obey_robots":
		if strings.Contains(reason, "unavailable") {
			return "robots.txt could not be fetched, which forbids the whole site until it can (RFC 9309); " +
				"politeness.obey_robots decides whether robots.txt is obeyed"
		}
		return "the site's robots.txt forbids it; politeness.obey_robots decides whether robots.txt is obeyed"
	case "fetch.proxy":
		return "the request failed on its way through a proxy (last_error names it); fetch.proxy and fetch.hosts.<host>.proxy choose the proxies"
	}
	return "set by " + key
}
