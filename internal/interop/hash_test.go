package interop

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/internal/testkit"
	"github.com/goyoton/yoton/slots"
)

// hashNames returns the names whose hashes Go and Python must agree on.
func hashNames() []string {
	names := []string{
		// ASCII
		"a", "z", "ab", "abc", "test", "yoton", "hello world", "0", "12345",
		"ctrl-command", "pyzo-kernel", "stdout.txt.pub-sub", "x.y.z",
		"the quick brown fox jumps over the lazy dog",
		"abcdefghijklmnopqrstuvwxyz0123456789", // past 20 chars: 64-bit wraparound would differ
		"~!@#$%^&*()_+`-={}|[]\\:\";'<>?,./",
		// mixed case with surrounding whitespace (see also the normalised run)
		" MiXeD Name ", "\tTabbed Slot\n", "  UPPER CASE  ", "\u00a0NBSP Around\u00a0",
		"\u3000Ideographic Space\u3000", " \u00c0\u00c9\u00ce \u00dcn\u00efcode ", "\u039f\u0394\u039f\u03a3 ",
		"\u0130stanbul", "Stra\u00dfe", "\u1e9e Capital Sharp S", "\x1cFS and RS\x1e",
		// non-ASCII: accents, Greek, Cyrillic, CJK, emoji
		"caf\u00e9", "na\u00efve", "\u03a9mega", "\u0421\u043b\u0430\u0432\u0430",
		"\u65e5\u672c\u8a9e", "\u4e2d\u6587\u9891\u9053", "\ud55c\uad6d\uc5b4",
		"\U0001f389", "emoji \U0001f600 channel", "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
		"\U00010348 gothic", "\u0000nul", "\uffff max bmp", "\U0010ffff max",
		// full channel slot names
		"abc.txt.pub-sub", "abc.txt.sub-pub", "abc.bin.pub-sub", "abc.obj.req-rep",
		"abc.obj.rep-req", "abc.obj.state", "stdin.txt.pub-sub", " MiXeD Name .txt.pub-sub",
		"\u65e5\u672c.obj.state", "reqrep.obj.req-rep",
	}
	// Long names of 200 to 2000 code points, ASCII and not.
	rng := rand.New(rand.NewPCG(3, 4))
	alphabets := [][]rune{
		[]rune("abcdefghijklmnopqrstuvwxyz.-_0123456789"),
		[]rune("aB\u00e9\u03a3\u65e5\u672c\U0001f389 .\u0416"),
	}
	for _, n := range []int{200, 255, 256, 500, 1000, 2000} {
		for _, alpha := range alphabets {
			var b strings.Builder
			for range n {
				b.WriteRune(alpha[rng.IntN(len(alpha))])
			}
			names = append(names, b.String())
		}
	}
	names = append(names, strings.Repeat("x", 2000), "  "+strings.Repeat("Ab\u00c9", 300)+"  ")
	return names
}

// TestHashes compares slots.Hash and slots.PortHash with Python's
// slot_hash and port_hash, on names as given and after yoton's channel
// normalisation (strip then lower) against slots.Normalize.
func TestHashes(t *testing.T) {
	ctx := testkit.Context(t)
	p, _ := startPython(t, ctx, nil)
	names := hashNames()
	if len(names) < 50 {
		t.Fatalf("only %d names", len(names))
	}
	for _, normalize := range []bool{false, true} {
		var r struct {
			Slot  []string `json:"slot"`
			Port  []int    `json:"port"`
			Names []string `json:"names"`
		}
		p.call(map[string]any{"op": "hash", "names": names, "normalize": normalize}, &r)
		if len(r.Slot) != len(names) || len(r.Port) != len(names) || len(r.Names) != len(names) {
			t.Fatalf("Python returned %d/%d/%d results for %d names", len(r.Slot), len(r.Port), len(r.Names), len(names))
		}
		for i, name := range names {
			label := fmt.Sprintf("normalize=%v %s", normalize, clip(strconv.QuoteToASCII(name)))
			hashed := name
			if normalize {
				hashed = slots.Normalize(name)
				if hashed != r.Names[i] {
					t.Errorf("%s: slots.Normalize = %q, Python strip().lower() = %q", label, clip(hashed), clip(r.Names[i]))
				}
			}
			want, err := strconv.ParseUint(r.Slot[i], 10, 64)
			if err != nil {
				t.Fatalf("%s: Python slot hash %q: %v", label, r.Slot[i], err)
			}
			if got := slots.Hash(hashed); got != want {
				t.Errorf("%s: slots.Hash = %d, Python slot_hash = %d", label, got, want)
			}
			if got := slots.PortHash(hashed); got != r.Port[i] {
				t.Errorf("%s: slots.PortHash = %d, Python port_hash = %d", label, got, r.Port[i])
			}
		}
	}
}

// TestChannelSlotIDs: a Go SubChannel and a Python PubChannel with the
// same (unnormalised) base compute the same slot id and meet.
func TestChannelSlotIDs(t *testing.T) {
	bases := []string{" MiXeD Name ", "  \u00dcn\u00efcode \u039f\u0394\u039f\u03a3 \u65e5\u672c\t"}
	ctx, x, p := linked(t, goHosts)
	for i, base := range bases {
		sub, err := channels.NewSubChannel(x, base, channels.Text)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			SlotOut string `json:"slot_out"`
		}
		p.call(map[string]any{"op": "pub", "slot": base}, &r)
		if got, want := slots.Hash(slots.Normalize(sub.SlotIncoming())), mustUint(t, r.SlotOut, 10); got != want {
			t.Errorf("%q: Go sub slot id %d (%q), Python pub slot id %d", base, got, sub.SlotIncoming(), want)
		}
		msg := fmt.Sprintf("to %q number %d", base, i)
		p.call(map[string]any{"op": "send", "slot": base, "value": msg}, nil)
		if got := recvN(t, ctx, sub, 1)[0]; got != msg {
			t.Errorf("%q: Go received %q, want %q", base, got, msg)
		}
	}
}
