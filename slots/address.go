package slots

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidAddress is wrapped by every error ParseAddress returns; test
// for it with errors.Is. The message says what is wrong, for example
//
//	yoton: invalid address "foo": missing ':' between host and port
var ErrInvalidAddress = errors.New("yoton: invalid address")

// Address is a parsed yoton address, "[protocol://]host:port".
type Address struct {
	// Protocol is lower-cased; it is "tcp" when the address has none.
	// ParseAddress accepts any protocol; callers that only speak TCP must
	// check it.
	Protocol string
	// Host is a host name or IP address. "localhost" (any case) has become
	// "127.0.0.1" and "publichost[N]" the N-th IPv4 address of this
	// machine. An empty Host means all interfaces when listening, as in
	// Python.
	Host string
	// Port is in [0, 65535].
	Port int
}

// String returns "host:port" (for "ipc://path", the path), suitable for
// net.Dial and net.Listen with a.Network(). The protocol is not part of it.
// Safe for concurrent use.
func (a Address) String() string {
	if a.Protocol == "ipc" {
		return a.Host
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}

// Network returns the network to give net.Dial and net.Listen for a:
// "unix" for "ipc://path", "tcp6" for an IPv6 address (written
// "[addr]:port"), "tcp4" otherwise, as yoton addresses are IPv4. Safe
// for concurrent use.
func (a Address) Network() string {
	if a.Protocol == "ipc" {
		return "unix"
	}
	if ip := net.ParseIP(a.Host); ip != nil && ip.To4() == nil {
		return "tcp6"
	}
	return "tcp4"
}

// ParseAddress parses "[protocol://]host:port" the way Python yoton's
// split_address does:
//
//   - The protocol is everything before the first "://", lower-cased;
//     it defaults to "tcp".
//   - Go only: "ipc://path" is a unix-domain socket at path (Host is the
//     path, Port 0).
//   - Host and port are split at the FIRST ':' after that. Go only: a
//     host in brackets, "[IPv6 address]:port", is an IPv6 address
//     (Python has no way to write one).
//   - "localhost" in any case becomes "127.0.0.1".
//   - "publichost" means "publichost0". "publichostN" becomes the N-th
//     IPv4 address the resolver gives for os.Hostname (Python:
//     socket.gethostbyname_ex(socket.gethostname())[2][N]). Like Python,
//     N qualifies when it is a substring of "0123456789", so "publichost12"
//     means index 12 while "publichost21" is left alone as a literal host
//     name. This is the only case where ParseAddress blocks on the
//     resolver.
//   - The port is an integer with Python's int() syntax (surrounding
//     white space, a sign, '_' between digits, any Unicode decimal
//     digits); otherwise "name" means PortHash(name) and "name+offset"
//     means PortHash(name)+offset, where offset has int() syntax.
//
// Where Python accepts nonsense, ParseAddress reports it: an empty or
// blank port name (Python hashes "" to 49152), a host containing white space or
// brackets, a negative port, and port 65536 (which Python lets through).
// Every error wraps ErrInvalidAddress. ParseAddress is safe for concurrent
// use.
func ParseAddress(s string) (Address, error) {
	return parseAddress(s, publicHostAddrs)
}

// parseAddress is ParseAddress with the public host lookup supplied by the
// caller, so tests and the fuzz target do not depend on the machine.
func parseAddress(s string, lookup func() ([]string, error)) (Address, error) {
	fail := func(format string, args ...any) (Address, error) {
		return Address{}, fmt.Errorf("%w %q: %s", ErrInvalidAddress, s, fmt.Sprintf(format, args...))
	}
	if !strings.Contains(s, ":") {
		return fail("missing ':' between host and port")
	}

	rest := s
	var a Address
	if before, after, ok := strings.Cut(s, "://"); ok {
		a.Protocol = pyLower(before)
		rest = after
	}
	if a.Protocol == "" {
		a.Protocol = "tcp"
	}
	if a.Protocol == "ipc" {
		// "ipc://path" (Go only): a unix-domain socket; Host is the path.
		if rest == "" {
			return fail("empty ipc path")
		}
		a.Host = rest
		return a, nil
	}

	var host, port string
	if inner, after, ok := strings.Cut(strings.TrimPrefix(rest, "["), "]"); strings.HasPrefix(rest, "[") && ok {
		// "[IPv6]:port" (Go only: Python splits at the first ':').
		ip := net.ParseIP(inner)
		if ip == nil || ip.To4() != nil || strings.Contains(inner, "%") {
			return fail("%q is not an IPv6 address", inner)
		}
		port, ok = strings.CutPrefix(after, ":")
		if !ok {
			return fail("missing ':' between host and port")
		}
		host = ip.String()
		a.Host = host
		return parsePort(a, port, fail)
	}
	host, port, ok := strings.Cut(rest, ":")
	if !ok {
		return fail("missing ':' between host and port")
	}

	// Host.
	if strings.ContainsAny(host, "[]") {
		return fail("a bracketed host must be an IPv6 address: \"[addr]:port\"")
	}
	if strings.IndexFunc(host, pyIsSpace) >= 0 {
		return fail("host %q contains white space", host)
	}
	switch lower := pyLower(host); {
	case lower == "localhost":
		host = "127.0.0.1"
	case lower == "publichost":
		host = "publichost0"
	}
	if suffix, ok := publicHostSuffix(host); ok {
		// suffix is a non-empty run of consecutive ASCII digits, at most
		// ten of them, so Atoi can not fail.
		index, _ := strconv.Atoi(suffix)
		addrs, err := lookup()
		if err != nil {
			return Address{}, fmt.Errorf("%w %q: resolving public host: %w", ErrInvalidAddress, s, err)
		}
		if index >= len(addrs) {
			return fail("invalid index (%d) in public host addresses (this machine has %d)", index, len(addrs))
		}
		host = addrs[index]
	}
	a.Host = host
	return parsePort(a, port, fail)
}

// parsePort parses the port part of an address into a.
func parsePort(a Address, port string, fail func(string, ...any) (Address, error)) (Address, error) {
	p, err := pyInt(port)
	switch {
	case errors.Is(err, errIntRange):
		return fail("port %q out of range [0, 65535]", port)
	case err != nil:
		name, offsetText, hasOffset := strings.Cut(port, "+")
		var offset int64
		if hasOffset {
			offset, err = pyInt(offsetText)
			switch {
			case errors.Is(err, errIntRange):
				return fail("offset %q out of range", offsetText)
			case err != nil:
				return fail("invalid offset %q in port %q", offsetText, port)
			}
		}
		if pyStrip(name) == "" {
			return fail("empty port name")
		}
		if offset < -65535 || offset > 65535 {
			return fail("port %q out of range [0, 65535]", port)
		}
		p = int64(PortHash(name)) + offset
	}
	if p < 0 || p > 65535 {
		return fail("port %d out of range [0, 65535]", p)
	}
	a.Port = int(p)
	return a, nil
}

// publicHostSuffix reports whether host selects a public host address, as
// Python's test `host.lower().startswith("publichost") and host[10:] in
// "0123456789"`, and returns host[10:]. Note the substring test: "12" and
// "0123" qualify, "21" and "13" do not.
func publicHostSuffix(host string) (string, bool) {
	const prefix = "publichost"
	// No non-ASCII code point lower-cases to one of prefix's letters, so
	// the first ten code points are ASCII when the prefix matches.
	if len(host) <= len(prefix) || !strings.EqualFold(host[:len(prefix)], prefix) {
		return "", false
	}
	suffix := host[len(prefix):]
	return suffix, strings.Contains("0123456789", suffix)
}

// publicHostAddrs returns this machine's IPv4 addresses as Python's
// socket.gethostbyname_ex(socket.gethostname())[2] would: the addresses
// the resolver gives for os.Hostname, in resolver order, IPv4 only,
// without duplicates.
func publicHostAddrs() ([]string, error) {
	name, err := os.Hostname()
	if err != nil {
		return nil, err
	}
	hosts, err := net.DefaultResolver.LookupHost(context.Background(), name)
	if err != nil {
		return nil, err
	}
	var addrs []string
	seen := make(map[netip.Addr]bool)
	for _, h := range hosts {
		ip, err := netip.ParseAddr(h)
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		if !ip.Is4() || seen[ip] {
			continue
		}
		seen[ip] = true
		addrs = append(addrs, ip.String())
	}
	return addrs, nil
}

var (
	errIntSyntax = errors.New("invalid literal for int() with base 10")
	errIntRange  = errors.New("int() value out of int64 range")
)

// pyInt parses s like Python's int(s) (base 10) and returns errIntSyntax
// where Python raises ValueError. Python first maps every code point above
// U+007E to ' ' if it is white space or to its ASCII digit if it is a
// Unicode decimal digit (anything else is invalid); then it accepts
// optional ASCII white space (" \t\n\v\f\r"; not U+001C..U+001F), an
// optional sign, digits with single '_' between them, optional ASCII white
// space. Values outside int64 give errIntRange (Python has no limit, but
// no such value is a port).
func pyInt(s string) (int64, error) {
	buf := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x7F:
			buf = append(buf, byte(r))
		case pyIsSpace(r):
			buf = append(buf, ' ')
		default:
			d, ok := decimalValue(r)
			if !ok {
				return 0, errIntSyntax
			}
			buf = append(buf, byte('0'+d))
		}
	}

	isSpace := func(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }
	i, j := 0, len(buf)
	for i < j && isSpace(buf[i]) {
		i++
	}
	for j > i && isSpace(buf[j-1]) {
		j--
	}
	b := buf[i:j]
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, errIntSyntax
	}
	var v uint64
	overflow := false
	for k, c := range b {
		if c == '_' {
			// Only single underscores between two digits.
			if k == 0 || k == len(b)-1 || b[k-1] == '_' {
				return 0, errIntSyntax
			}
			continue
		}
		if c < '0' || c > '9' {
			return 0, errIntSyntax
		}
		if v > (1<<63)/10 {
			overflow = true
		}
		v = v*10 + uint64(c-'0')
		if v > 1<<63 {
			overflow = true
		}
	}
	switch {
	case overflow || (!neg && v == 1<<63):
		return 0, errIntRange
	case neg:
		return -int64(v), nil // -(1<<63) wraps to itself, which is right
	}
	return int64(v), nil
}

// decimalValue returns the value of a Unicode decimal digit (general
// category Nd, which is Python's Numeric_Type=Decimal). Unicode assigns
// Nd code points in contiguous runs of ten, 0 to 9, so the value is the
// distance from the start of the run.
func decimalValue(r rune) (int, bool) {
	if r < utf8.RuneSelf {
		if r >= '0' && r <= '9' {
			return int(r - '0'), true
		}
		return 0, false
	}
	if !unicode.IsDigit(r) {
		return 0, false
	}
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return int(r-start) % 10, true
}
