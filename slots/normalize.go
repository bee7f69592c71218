package slots

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalize returns name the way Python yoton normalises a full slot name
// before hashing it: name.strip().lower().
//
// Both steps follow CPython rather than Go's strings package:
//
//   - strip removes the code points for which Python's str.isspace is true.
//     That set is wider than unicode.IsSpace: it includes the ASCII
//     information separators U+001C..U+001F.
//   - lower uses Python's full lower-case mapping: U+0130 'İ' becomes the
//     two code points "i\u0307", and a capital sigma becomes the final form
//     'ς' at the end of a word (CPython's Final_Sigma rule).
//
// Case data come from Go's unicode tables (see unicode.Version), so
// characters assigned after the Unicode version of the peer's Python may
// lower-case differently there. Bytes that are not valid UTF-8 are kept
// unchanged. Normalize is safe for concurrent use.
func Normalize(name string) string {
	return pyLower(pyStrip(name))
}

// FullName returns the normalised full slot name that Python yoton builds
// for a channel: Normalize(base + "." + typeName + "." + pattern), for
// example FullName("chat", "txt", "pub-sub") is "chat.txt.pub-sub".
// FullName is safe for concurrent use.
func FullName(base, typeName, pattern string) string {
	return Normalize(base + "." + typeName + "." + pattern)
}

// ID returns the slot id of a channel: Hash(FullName(base, typeName,
// pattern)). It is the value that travels in package headers. ID is safe
// for concurrent use.
func ID(base, typeName, pattern string) uint64 {
	return Hash(FullName(base, typeName, pattern))
}

// pyIsSpace reports whether CPython's str.isspace is true for r: the code
// points whose bidirectional class is WS, B or S, or whose category is Zs.
// The list was generated with
//
//	python3 -c 'print([hex(c) for c in range(0x110000) if chr(c).isspace()])'
//
// and has been stable since Unicode 6.3 (U+180E left it then).
func pyIsSpace(r rune) bool {
	switch {
	case r <= 0x20:
		return r == ' ' || (r >= 0x09 && r <= 0x0D) || (r >= 0x1C && r <= 0x1F)
	case r < 0x85:
		return false
	case r == 0x85, r == 0xA0, r == 0x1680:
		return true
	case r >= 0x2000 && r <= 0x200A:
		return true
	case r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

// pyStrip is Python's str.strip() with no argument.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		// TrimFunc reports invalid bytes as RuneError, which is not space.
		return pyIsSpace(r)
	})
}

// pyLower is Python's str.lower(). Invalid UTF-8 bytes are copied as they
// are; for the Final_Sigma context they count as U+FFFD, a code point that
// is neither cased nor case-ignorable.
func pyLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteByte(s[i])
		case r == 'İ': // U+0130, SpecialCasing: 0069 0307
			b.WriteString("i\u0307")
		case r == 'Σ': // U+03A3
			if finalSigma(s, i, i+size) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
		i += size
	}
	return b.String()
}

// finalSigma reports whether the capital sigma at s[start:end] is in
// CPython's Final_Sigma context:
//
//	\p{cased} \p{case-ignorable}* U+03A3 !( \p{case-ignorable}* \p{cased} )
//
// This mirrors handle_capital_sigma in CPython's unicodeobject.c.
func finalSigma(s string, start, end int) bool {
	before := rune(-1)
	for j := start; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if !isCaseIgnorable(r) {
			before = r
			break
		}
	}
	if before < 0 || !isCased(before) {
		return false
	}
	for j := end; j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !isCaseIgnorable(r) {
			return !isCased(r)
		}
		j += size
	}
	return true
}

// isCased is Unicode's derived property Cased: Lowercase, Uppercase or
// general category Lt.
func isCased(r rune) bool {
	return unicode.IsLower(r) || unicode.IsUpper(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// isCaseIgnorable is Unicode's derived property Case_Ignorable: general
// category Mn, Me, Cf, Lm or Sk, or Word_Break MidLetter, MidNumLet or
// Single_Quote. Go's unicode package has no Word_Break tables; the code
// points of those three classes are listed here (WordBreakProperty.txt,
// Unicode 14 and 15).
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', // Single_Quote
		'.', 0x2018, 0x2019, 0x2024, 0xFE52, 0xFF07, 0xFF0E, // MidNumLet
		':', 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2027, 0xFE13, 0xFE55, 0xFF1A: // MidLetter
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
