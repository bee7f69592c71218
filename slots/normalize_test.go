package slots

import (
	"fmt"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
)

// TestNormalizePython checks Normalize against Python's s.strip().lower(),
// values generated with Python 3.11.7:
//
//	python3 -c 'for s in ["Chat.TXT.Pub-Sub", "ΟΔΟΣ"]: print(repr(s), repr(s.strip().lower()))'
//
// with every input of the table in the list.
func TestNormalizePython(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{name: "ascii upper", input: "Chat.TXT.Pub-Sub", want: "chat.txt.pub-sub"},
		{name: "ascii white space", input: "  chat.txt.pub-sub\t\n", want: "chat.txt.pub-sub"},
		{name: "information separators", input: "\x1c\x1d\x1e\x1fchat\x1f", want: "chat"},
		{name: "unicode white space", input: "\u00a0\u3000\u2028\u0085chat\u2029\u202f\u205f\u1680", want: "chat"},
		{name: "not white space in python", input: "\u200bchat\u180e", want: "\u200bchat\u180e"},
		{name: "nul kept", input: "\x00chat", want: "\x00chat"},
		{name: "inner white space kept", input: " a b ", want: "a b"},
		{name: "dotted capital I", input: "İstanbul", want: "i\u0307stanbul"},
		{name: "final sigma", input: "ΟΔΟΣ", want: "οδος"},
		{name: "final sigma before dot word", input: "ΟΔΟΣ.ΤΧΤ", want: "οδοσ.τχτ"},
		{name: "final sigma then combining", input: "ΑΣ\u0301", want: "ας\u0301"},
		{name: "combining then cased", input: "ΑΣ\u0301Α", want: "ασ\u0301α"},
		{name: "lone sigma", input: "Σ", want: "σ"},
		{name: "colon is case-ignorable", input: "ΑΣ:Α", want: "ασ:α"},
		{name: "modifier letter before", input: "\u02b0Σ", want: "\u02b0σ"},
		{name: "modifier letter after", input: "ΑΣ\u02b0", want: "ας\u02b0"},
		{name: "sigma before white space", input: "ΑΣ ", want: "ας"},
		{name: "capital sharp s", input: "ẞ", want: "ß"},
		{name: "titlecase digraph", input: "ǅ", want: "ǆ"},
		{name: "kelvin and angstrom", input: "\u212a\u212b", want: "kå"},
		{name: "latin cjk emoji", input: "ÀÉÎ中文😀", want: "àéî中文😀"},
		{name: "roman numeral", input: "Ⅻ", want: "ⅻ"},
		{name: "circled letter", input: "Ⓐ", want: "ⓐ"},
		{name: "deseret non-BMP", input: "\U00010400", want: "\U00010428"},
		{name: "sigma before non-BMP cased", input: "ΑΣ\U00010400", want: "ασ\U00010428"},
		{name: "empty", input: "", want: ""},
		{name: "only white space", input: " \t\u3000", want: ""},
		// Not from Python: a Go string may hold bytes that are not UTF-8.
		{name: "invalid utf-8 kept", input: " AB\xff\x80Σ ", want: "ab\xff\x80σ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Normalize(tt.input))
		})
	}
}

// TestPyIsSpace checks the white space table against Go's: Python's set
// is unicode.IsSpace plus U+001C..U+001F.
func TestPyIsSpace(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F)
		if pyIsSpace(r) != want {
			t.Fatalf("pyIsSpace(%U) = %v, want %v", r, !want, want)
		}
	}
}

func TestFullNameAndID(t *testing.T) {
	tests := []struct {
		base, typeName, pattern string
		wantName                string
		wantID                  uint64 // m.slot_hash(full name), as in TestHashPythonValues
	}{
		{base: "chat", typeName: "txt", pattern: "pub-sub", wantName: "chat.txt.pub-sub", wantID: 17460451874447},
		{base: " Chat ", typeName: "TXT", pattern: "sub-pub", wantName: "chat .txt.sub-pub", wantID: 19014000273314},
		{base: "\tCHAT", typeName: "obj", pattern: "Req-Rep\n", wantName: "chat.obj.req-rep", wantID: 17017072383034},
		{base: "Status", typeName: "obj", pattern: "state", wantName: "status.obj.state", wantID: 18541515826754},
		{base: "中文频道", typeName: "txt", pattern: "pub-sub", wantName: "中文频道.txt.pub-sub", wantID: 2336326532270049},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.base), func(t *testing.T) {
			assert.Equal(t, tt.wantName, FullName(tt.base, tt.typeName, tt.pattern))
			assert.Equal(t, tt.wantID, ID(tt.base, tt.typeName, tt.pattern))
		})
	}
}
