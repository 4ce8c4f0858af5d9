package testsite

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file is the validators (ETag, Last-Modified) of content hosts and
// the conditional requests they answer (RFC 9110, section 13).

// reply is a content host's answer before it is written.
type reply struct {
	status   int
	ctype    string
	location string
	body     []byte
	etag     string    // quoted strong entity tag of a 200; "" otherwise
	modified time.Time // Last-Modified of a 200
}

// write sends rep, or 304 Not Modified or 412 Precondition Failed when the
// request's preconditions say so.
func (rep *reply) write(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if rep.etag != "" {
		hdr.Set("ETag", rep.etag)
		hdr.Set("Last-Modified", rep.modified.UTC().Format(http.TimeFormat))
		if st := preconditions(r, rep.etag, rep.modified); st != 0 {
			w.WriteHeader(st)
			return
		}
	}
	if rep.location != "" {
		hdr.Set("Location", rep.location)
	}
	hdr.Set("Content-Type", rep.ctype)
	hdr.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	if r.Method != http.MethodHead {
		w.Write(rep.body)
	}
}

// conditional reports whether r carries a precondition header field.
func conditional(r *http.Request) bool {
	h := r.Header
	return h["If-None-Match"] != nil || h["If-Modified-Since"] != nil || h["If-Match"] != nil || h["If-Unmodified-Since"] != nil
}

// preconditions evaluates r's preconditions against a 200 representation
// with the strong entity tag etag, last modified at mod, in the order of
// RFC 9110 section 13.2.2: If-Match, else If-Unmodified-Since; then
// If-None-Match, else (GET and HEAD only) If-Modified-Since. It returns 0
// to serve the representation, 304 or 412. Dates compare at one-second
// resolution; an invalid date is ignored, as the RFC says.
func preconditions(r *http.Request, etag string, mod time.Time) int {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	mod = mod.Truncate(time.Second)
	if v, ok := field(r, "If-Match"); ok {
		if !matchETag(v, etag, false) {
			return http.StatusPreconditionFailed
		}
	} else if v, ok := field(r, "If-Unmodified-Since"); ok {
		if t, err := http.ParseTime(v); err == nil && mod.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if v, ok := field(r, "If-None-Match"); ok {
		if !matchETag(v, etag, true) {
			return 0
		}
		if get {
			return http.StatusNotModified
		}
		return http.StatusPreconditionFailed
	}
	if v, ok := field(r, "If-Modified-Since"); ok && get {
		if t, err := http.ParseTime(v); err == nil && !mod.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// field returns the value of a header field, its lines joined with ", "
// (a list may come on several lines).
func field(r *http.Request, name string) (string, bool) {
	vs := r.Header.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	return strings.Join(vs, ", "), true
}

// matchETag reports whether the list of entity tags in an If-Match or
// If-None-Match field matches etag (which is strong): "*" matches, W/
// tags match with weak comparison only. A malformed list matches nothing.
func matchETag(list, etag string, weak bool) bool {
	list = strings.TrimSpace(list)
	if list == "*" {
		return true
	}
	for {
		if list = strings.TrimLeft(list, " \t,"); list == "" {
			return false
		}
		var tag string
		var isWeak, ok bool
		tag, isWeak, list, ok = nextETag(list)
		if !ok {
			return false
		}
		if tag == etag && (weak || !isWeak) {
			return true
		}
	}
}

// nextETag splits the first entity tag off a comma-separated list that
// starts with one, returning it with its quotes and without a W/ prefix.
func nextETag(s string) (tag string, weak bool, rest string, ok bool) {
	if w, found := strings.CutPrefix(s, "W/"); found {
		s, weak = w, true
	}
	if len(s) < 2 || s[0] != '"' {
		return "", false, "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", false, "", false
	}
	tag, rest = s[:end+2], strings.TrimLeft(s[end+2:], " \t")
	if rest != "" && rest[0] != ',' {
		return "", false, "", false
	}
	return tag, weak, rest, true
}
