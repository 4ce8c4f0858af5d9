package urlnorm

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendHost appends the canonical host and, unless it is the default, the
// port of p.
func (n *Normalizer) appendHost(b []byte, p *parts) ([]byte, error) {
	host, port, hasPort := p.hostport, "", false
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return b, fmt.Errorf("host %q: missing ']': %w", p.hostport, ErrInvalid)
		}
		if rest := host[end+1:]; rest != "" {
			if rest[0] != ':' {
				return b, fmt.Errorf("host %q: text after ']': %w", p.hostport, ErrInvalid)
			}
			port, hasPort = rest[1:], true
		}
		host = host[:end+1]
	} else if i := strings.IndexByte(host, ':'); i >= 0 {
		host, port, hasPort = host[:i], host[i+1:], true
	}
	if host == "" {
		return b, ErrNoHost
	}
	portNum, err := parsePort(port)
	if err != nil {
		return b, err
	}
	if host[0] == '[' {
		b, err = appendIPv6(b, host[1:len(host)-1])
	} else {
		b, err = n.appendDomain(b, host, p.hostDecoded)
	}
	if err != nil {
		return b, err
	}
	if hasPort && port != "" && portNum != defaultPort(p.scheme) {
		b = append(b, ':')
		b = strconv.AppendUint(b, uint64(portNum), 10)
	}
	return b, nil
}

func defaultPort(scheme string) uint32 {
	if scheme == "https" {
		return 443
	}
	return 80
}

// parsePort parses a decimal port, allowing leading zeros as browsers do.
func parsePort(s string) (uint32, error) {
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q: %w", s, ErrInvalid)
		}
		v = v*10 + uint32(c-'0')
		if v > 65535 {
			return 0, fmt.Errorf("port %q: out of range: %w", s, ErrInvalid)
		}
	}
	return v, nil
}

// appendDomain appends the canonical form of a host that is not an IPv6
// literal: a lowercase ASCII domain, or an IPv4 address in dotted decimal.
// decoded says the host was already percent-decoded, so "%" is literal.
func (n *Normalizer) appendDomain(b []byte, host string, decoded bool) ([]byte, error) {
	start := len(b)
	if plain, ok := appendPlainHost(b, host); ok {
		b = plain
	} else if simpleHost(host) {
		for i := 0; i < len(host); i++ {
			c := hostBytes[host[i]]
			if c == 0 {
				return b, fmt.Errorf("host %q: invalid character %q: %w", host, host[i], ErrInvalid)
			}
			b = append(b, c)
		}
	} else {
		s := host
		if !decoded && strings.IndexByte(s, '%') >= 0 {
			var err error
			if s, err = percentDecodeHost(s); err != nil {
				return b, err
			}
		}
		if !utf8.ValidString(s) {
			return b, fmt.Errorf("host %q: not UTF-8: %w", host, ErrInvalid)
		}
		a, err := n.idna.ToASCII(s)
		if err != nil {
			return b, fmt.Errorf("host %q: %v: %w", host, err, ErrInvalid)
		}
		for i := 0; i < len(a); i++ {
			c := hostBytes[a[i]]
			if c == 0 {
				return b, fmt.Errorf("host %q: invalid character %q: %w", host, a[i], ErrInvalid)
			}
			b = append(b, c)
		}
	}
	for len(b) > start && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if len(b) == start {
		return b, fmt.Errorf("host %q: %w", host, ErrNoHost)
	}
	if h := b[start:]; !dottedDecimal(h) && endsInNumber(h) {
		ip, ok := parseIPv4(h)
		if !ok {
			return b, fmt.Errorf("host %q: bad IPv4 address: %w", host, ErrInvalid)
		}
		b = b[:start]
		for i := 3; i >= 0; i-- {
			b = strconv.AppendUint(b, uint64(ip>>(8*i)&0xff), 10)
			if i > 0 {
				b = append(b, '.')
			}
		}
	}
	return b, nil
}

// appendPlainHost appends host lowercased, the canonical form of the
// usual host name, when every byte of it may stay in a canonical host and
// it has no punycode label (which IDNA checks); otherwise it reports false
// and appendDomain takes the long way.
func appendPlainHost(b []byte, host string) ([]byte, bool) {
	start := len(b)
	b = slices.Grow(b, len(host))[:start+len(host)]
	out := b[start:]
	for i := range out {
		c := hostBytes[host[i]]
		if c == 0 {
			return b[:start], false
		}
		out[i] = c
	}
	if bytes.Contains(out, []byte("xn--")) {
		return b[:start], false
	}
	return b, true
}

// simpleHost reports whether host is plain ASCII with no escapes and no
// punycode label, so that IDNA processing would only lowercase it.
func simpleHost(host string) bool {
	label := 0 // start of the current label
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c >= 0x80 || c == '%' {
			return false
		}
		if c == '.' {
			label = i + 1
		} else if i == label+3 && c == '-' && host[i-1] == '-' &&
			(host[label] == 'x' || host[label] == 'X') && (host[label+1] == 'n' || host[label+1] == 'N') {
			return false
		}
	}
	return true
}

// hostBytes maps each byte that may appear in a canonical host name to
// its lowercase form (see isRegName), and every other byte to 0. Built
// once, never written after.
var hostBytes = func() *[256]byte {
	var t [256]byte
	for c := range t {
		switch b := byte(c); {
		case 'A' <= b && b <= 'Z':
			t[c] = b + 'a' - 'A'
		case isRegName(b):
			t[c] = b
		}
	}
	return &t
}()

// isRegName reports whether c may appear in an RFC 3986 reg-name outside of
// percent-encoding, uppercase letters aside: unreserved and sub-delims.
func isRegName(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

// percentDecodeHost decodes every %XX in s. A "%" not followed by two hex
// digits is an error: it would be a forbidden host character anyway.
func percentDecodeHost(s string) (string, error) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || unhex(s[i+1]) > 15 || unhex(s[i+2]) > 15 {
				return "", fmt.Errorf("host %q: bad percent-escape: %w", s, ErrInvalid)
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		b = append(b, c)
	}
	return string(b), nil
}

// endsInNumber reports whether the last label of the domain h is a number,
// which makes h an IPv4 address (WHATWG "ends in a number").
func endsInNumber(h []byte) bool {
	last := h
	for i := len(h) - 1; i >= 0; i-- {
		if h[i] == '.' {
			last = h[i+1:]
			break
		}
	}
	if len(last) == 0 {
		return false
	}
	digits := true
	for _, c := range last {
		if c < '0' || c > '9' {
			digits = false
			break
		}
	}
	if digits {
		return true
	}
	if len(last) < 2 || last[0] != '0' || last[1] != 'x' {
		return false
	}
	for _, c := range last[2:] {
		if unhex(c) > 15 {
			return false
		}
	}
	return true
}

// dottedDecimal reports whether h is an IPv4 address written in its
// canonical form: four decimal numbers from 0 to 255, without leading
// zeros.
func dottedDecimal(h []byte) bool {
	parts, n, digits := 0, 0, 0
	for i := 0; i <= len(h); i++ {
		if i == len(h) || h[i] == '.' {
			if digits == 0 || n > 255 {
				return false
			}
			parts, n, digits = parts+1, 0, 0
			continue
		}
		c := h[i]
		if c < '0' || c > '9' || digits == 3 || digits == 1 && n == 0 {
			return false
		}
		n, digits = n*10+int(c-'0'), digits+1
	}
	return parts == 4
}

// parseIPv4 parses the WHATWG IPv4 forms: one to four dot-separated numbers
// in decimal, octal (leading 0) or hex (0x), the last filling the remaining
// bytes. h is lowercase and has no trailing dot.
func parseIPv4(h []byte) (uint32, bool) {
	var nums [4]uint64
	count := 0
	for len(h) > 0 || count == 0 {
		part := h
		if i := indexByte(h, '.'); i >= 0 {
			part, h = h[:i], h[i+1:]
			if len(h) == 0 {
				return 0, false // "1.2." cannot happen: trailing dots are gone
			}
		} else {
			h = nil
		}
		if count == 4 {
			return 0, false
		}
		v, ok := parseIPv4Number(part)
		if !ok {
			return 0, false
		}
		nums[count] = v
		count++
	}
	var ip uint64
	for i := 0; i < count-1; i++ {
		if nums[i] > 255 {
			return 0, false
		}
		ip |= nums[i] << (8 * (3 - i))
	}
	last := nums[count-1]
	if last >= 1<<(8*(5-count)) {
		return 0, false
	}
	return uint32(ip | last), true
}

// parseIPv4Number parses one IPv4 part. Values are capped just above
// 2^32, which is already out of range for every position.
func parseIPv4Number(s []byte) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[0] == '0' && s[1] == 'x':
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	var v uint64
	for _, c := range s {
		d := uint64(unhex(c))
		if d >= base {
			return 0, false
		}
		if v <= 1<<32 {
			v = v*base + d
		}
	}
	return v, true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// appendIPv6 appends the bracketed WHATWG serialisation of the IPv6
// address s (given without brackets).
func appendIPv6(b []byte, s string) ([]byte, error) {
	if strings.IndexByte(s, '%') >= 0 {
		return b, fmt.Errorf("IPv6 host %q: zones are not allowed: %w", s, ErrInvalid)
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is6() {
		return b, fmt.Errorf("IPv6 host %q: %w", s, ErrInvalid)
	}
	a := addr.As16()
	var g [8]uint16
	for i := range g {
		g[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	// The first longest run of two or more zero groups becomes "::".
	zs, zl := -1, 1
	for i := 0; i < 8; {
		if g[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && g[j] == 0 {
			j++
		}
		if j-i > zl {
			zs, zl = i, j-i
		}
		i = j
	}
	b = append(b, '[')
	for i := 0; i < 8; i++ {
		if i == zs {
			b = append(b, "::"...)
			i += zl - 1
			continue
		}
		if i > 0 && i != zs+zl {
			b = append(b, ':')
		}
		b = strconv.AppendUint(b, uint64(g[i]), 16)
	}
	return append(b, ']'), nil
}
