package wire

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Replies of a hosting side whose handshake fails; both end in CRLF and are
// sent as is.
const (
	// ReplyNotYoton answers a line that does not start with "YOTON!".
	ReplyNotYoton = "ERROR: this is Yoton.\r\n"
	// ReplyBadID answers a "YOTON!" line whose id or pid do not parse.
	ReplyBadID = "ERROR: could not parse id.\r\n"
)

// MaxHandshakeLine is the longest handshake line, CRLF included, that a side
// reads before giving up on the peer. A real line is at most 6+16+1+20+2 = 45
// bytes; Python reads without a limit (but for 2 seconds only), so anything
// this long is not a yoton peer.
const MaxHandshakeLine = 1024

// handshakePrefix starts every handshake line.
const handshakePrefix = "YOTON!"

// ErrNotYoton is returned by ParseHandshakeLine for a line that does not
// start with "YOTON!" (for example an HTTP request); a host replies
// ReplyNotYoton.
var ErrNotYoton = errors.New("yoton: peer is not a yoton context")

// ErrBadHandshakeID is returned by ParseHandshakeLine when the id or the pid
// of a "YOTON!" line do not parse; a host replies ReplyBadID.
var ErrBadHandshakeID = errors.New("yoton: could not parse handshake id")

// HandshakeLine returns the handshake line a context with the given id and
// process id sends: "YOTON!" + the id as 16 lowercase hex digits + "." +
// the pid in decimal + "\r\n". The returned slice is newly allocated and
// owned by the caller. Pure function; safe for concurrent use.
//
// The id is zero-padded on the left. Python's UID.get_hex pads on the right
// (str.ljust), which sends a different number for ids whose top hex digit is
// 0; Python parses the left-padded form correctly, so ids sent from Go
// always arrive intact.
func HandshakeLine(id uint64, pid int) []byte {
	b := make([]byte, 0, 48)
	b = append(b, handshakePrefix...)
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[(id>>uint(shift))&0xF])
	}
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(pid), 10)
	return append(b, '\r', '\n')
}

// ParseHandshakeLine parses a handshake line as Python's HandShaker does;
// the trailing CRLF may be present or not. line is only read, never
// retained. It never panics. Pure function; safe for concurrent use.
//
// Mirroring Python: bytes that are not valid UTF-8 are dropped (Python
// decodes with errors="ignore"); the text must start with "YOTON!", else
// ErrNotYoton; the rest is split at its first "." into the id, parsed like
// Python's int(s, 16), and the pid, parsed like int(s, 10). Both therefore
// allow surrounding whitespace (the CRLF is whitespace), a sign, single
// underscores between digits and Unicode decimal digits; the id also allows
// a "0x" prefix. Anything else, a missing ".", an id outside the uint64 range
// or a pid outside the int range gives ErrBadHandshakeID. (Python accepts
// ids of any size and negative ids; those can not be yoton context ids.)
func ParseHandshakeLine(line []byte) (id uint64, pid int, err error) {
	s := string(line)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	rest, ok := strings.CutPrefix(s, handshakePrefix)
	if !ok {
		return 0, 0, ErrNotYoton
	}
	idText, pidText, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, 0, ErrBadHandshakeID
	}
	neg, mag, ok := parsePyInt(idText, 16)
	if !ok || (neg && mag != 0) {
		return 0, 0, ErrBadHandshakeID
	}
	id = mag
	neg, mag, ok = parsePyInt(pidText, 10)
	if !ok {
		return 0, 0, ErrBadHandshakeID
	}
	switch {
	case !neg && mag <= math.MaxInt:
		pid = int(mag)
	case neg && mag <= uint64(math.MaxInt)+1:
		pid = int(-mag) // two's complement: -MaxInt-1 fits
	default:
		return 0, 0, ErrBadHandshakeID
	}
	return id, pid, nil
}

// parsePyInt parses s like Python 3's int(s, base) for base 10 or 16, into a
// sign and a magnitude; ok is false if s does not parse or the magnitude
// does not fit in a uint64.
//
// CPython first maps every non-ASCII character to ASCII: Unicode whitespace
// becomes ' ', a Unicode decimal digit its ASCII digit, anything else fails.
// Then it skips ASCII whitespace, reads an optional sign, for base 16 an
// optional "0x" prefix (which may be followed by one underscore), digits
// with single underscores between them, and trailing whitespace.
func parsePyInt(s string, base uint64) (neg bool, mag uint64, ok bool) {
	var buf [64]byte
	a := buf[:0]
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			a = append(a, byte(r))
		case unicode.IsSpace(r):
			a = append(a, ' ')
		default:
			d := decimalValue(r)
			if d < 0 {
				return false, 0, false
			}
			a = append(a, byte('0'+d))
		}
	}
	isSpace := func(c byte) bool {
		return c == ' ' || (c >= '\t' && c <= '\r')
	}
	i := 0
	for i < len(a) && isSpace(a[i]) {
		i++
	}
	if i < len(a) && (a[i] == '+' || a[i] == '-') {
		neg = a[i] == '-'
		i++
	}
	if base == 16 && i+1 < len(a) && a[i] == '0' && (a[i+1] == 'x' || a[i+1] == 'X') {
		i += 2
		if i < len(a) && a[i] == '_' {
			i++
		}
	}
	if i < len(a) && a[i] == '_' {
		return false, 0, false
	}
	digits := 0
	prevUnderscore := false
	for ; i < len(a); i++ {
		c := a[i]
		if c == '_' {
			if prevUnderscore {
				return false, 0, false
			}
			prevUnderscore = true
			continue
		}
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			d = base // not a digit
		}
		if d >= base {
			break
		}
		prevUnderscore = false
		digits++
		if mag > (math.MaxUint64-d)/base {
			return false, 0, false
		}
		mag = mag*base + d
	}
	if digits == 0 || prevUnderscore {
		return false, 0, false
	}
	for i < len(a) && isSpace(a[i]) {
		i++
	}
	if i != len(a) {
		return false, 0, false
	}
	return neg, mag, true
}

// decimalValue returns the value of a Unicode decimal digit (category Nd),
// or -1. Unicode guarantees that decimal digits come in contiguous runs of
// ten, from 0 to 9, so the value is the distance to the start of the run,
// modulo 10 (some runs of ten follow each other directly).
func decimalValue(r rune) int {
	if !unicode.Is(unicode.Nd, r) {
		return -1
	}
	start := r
	for start > 0 && unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10
}
