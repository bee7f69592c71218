package slots

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refHash is slot_hash and port_hash from Python yoton's misc.py, written
// straight from the formula with math/big, as the reference Hash and
// PortHash are checked against.
func refHash(name string) (slot uint64, port int) {
	fac := big.NewInt(0xD2D84A61)
	val := new(big.Int)
	term := new(big.Int)
	n := int64(0)
	for _, c := range name {
		term.Mul(big.NewInt(int64(c)), fac)
		val.Add(val, new(big.Int).Add(new(big.Int).Rsh(val, 3), term))
		n++
	}
	term.Mul(big.NewInt(n), fac)
	val.Add(val, new(big.Int).Add(new(big.Int).Rsh(val, 3), term))

	mod := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(8))
	slot = 8 + new(big.Int).Mod(val, mod).Uint64()
	port = 49152 + int(new(big.Int).Mod(val, big.NewInt(1<<14)).Int64())
	return slot, port
}

// naiveHash is slot_hash with val wrapping at 64 bits, the mistake the
// wraparound test must catch.
func naiveHash(name string) uint64 {
	var val, n uint64
	for _, c := range name {
		val += val>>3 + uint64(c)*0xD2D84A61
		n++
	}
	val += val>>3 + n*0xD2D84A61
	return 8 + val%(1<<64-8)
}

// randomName returns a name of n code points drawn from pool.
func randomName(rng *rand.Rand, pool []rune, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(pool[rng.IntN(len(pool))])
	}
	return b.String()
}

func TestHashMatchesBigReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ascii := []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_ ")
	cjk := []rune("中文频道聊天服务器消息订阅发布状态请求回复")
	emoji := []rune("😀😎🚀🎉🐍\U0001F9D1\U0010FFFF\U00010000")
	combining := []rune("e\u0301a\u0300o\u0308\u0327\u20dd\u034f")
	mixed := []rune(string(ascii) + string(cjk) + string(emoji) + string(combining) + "\x00\u00ff\uffff\u03a3")

	tests := []struct {
		name  string
		pool  []rune
		sizes []int
	}{
		{name: "ascii short", pool: ascii, sizes: []int{0, 1, 2, 7, 8, 15, 16, 20, 31, 32, 64}},
		{name: "ascii long", pool: ascii, sizes: []int{128, 131, 200, 500, 777, 1000, 5000}},
		{name: "cjk", pool: cjk, sizes: []int{1, 5, 17, 90, 500, 2000}},
		{name: "emoji non-BMP", pool: emoji, sizes: []int{1, 3, 12, 80, 600}},
		{name: "combining", pool: combining, sizes: []int{1, 2, 9, 50, 512}},
		{name: "mixed", pool: mixed, sizes: []int{1, 10, 100, 1000, 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range tt.sizes {
				for range 5 {
					name := randomName(rng, tt.pool, size)
					wantSlot, wantPort := refHash(name)
					require.Equal(t, wantSlot, Hash(name), "Hash, %d code points: %q", size, name)
					require.Equal(t, wantPort, PortHash(name), "PortHash, %d code points: %q", size, name)
				}
			}
		})
	}
}

// TestHashPythonValues checks values computed by the real Python yoton
// 2.2 (from Debian's pyzo_4.12.3-1_all.deb, run with Python 3.11.7). They
// were generated with this one-liner, the .deb unpacked under /tmp/pyzo/root:
//
//	PYTHONPATH=/tmp/pyzo/root/usr/share/pyzo/pyzo python3 -c 'import yoton.misc as m; [print(repr(s), m.slot_hash(s), m.port_hash(s)) for s in ["", "a", "A", "chat", "chat.txt.pub-sub", "chat.txt.sub-pub", "chat.obj.req-rep", "chat.obj.rep-req", "status.obj.state", "yoton.bin.pub-sub", "abcdefghijklmnopqrstuvwxyz", "pyzo-kernel.txt.pub-sub", "中文频道.txt.pub-sub", "😀.bin.pub-sub", "e\u0301.obj.state", "x"*100, "x"*1000, "\u0130", "\u03a3\u03b1\u03c2", "a\U0010ffff"]]'
func TestHashPythonValues(t *testing.T) {
	tests := []struct {
		name string
		slot uint64
		port int
	}{
		{name: "", slot: 8, port: 49152},
		{name: "a", slot: 389555093250, port: 65274},
		{name: "A", slot: 262209046878, port: 51542},
		{name: "chat", slot: 1994814292088, port: 49264},
		{name: "chat.txt.pub-sub", slot: 17460451874447, port: 54919},
		{name: "chat.txt.sub-pub", slot: 17469545116738, port: 62522},
		{name: "chat.obj.req-rep", slot: 17017072383034, port: 62514},
		{name: "chat.obj.rep-req", slot: 17014677455022, port: 49318},
		{name: "status.obj.state", slot: 18541515826754, port: 58938},
		{name: "yoton.bin.pub-sub", slot: 20855138491423, port: 56343},
		{name: "abcdefghijklmnopqrstuvwxyz", slot: 67384243302297, port: 61329},
		{name: "pyzo-kernel.txt.pub-sub", slot: 46114490626296, port: 61680},
		{name: "中文频道.txt.pub-sub", slot: 2336326532270049, port: 51161},
		{name: "😀.bin.pub-sub", slot: 2110730707854386, port: 58410},
		{name: "e\u0301.obj.state", slot: 17985028298562, port: 55098},
		{name: strings.Repeat("x", 100), slot: 498145192547379914, port: 60098},
		{name: strings.Repeat("x", 1000), slot: 2513479118140037593, port: 57769},
		{name: "İ", slot: 1213324830719, port: 59383},
		{name: "Σας", slot: 12758834378126, port: 62854},
		{name: "a\U0010FFFF", slot: 4434117315619913, port: 60481},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20q", tt.name), func(t *testing.T) {
			assert.Equal(t, tt.slot, Hash(tt.name))
			assert.Equal(t, tt.port, PortHash(tt.name))
		})
	}
}

// TestHashNeedsBigInts shows that val outgrows 64 bits: a version that
// wraps agrees with Python on short names and disagrees on long ones.
func TestHashNeedsBigInts(t *testing.T) {
	tests := []struct {
		name  string
		input string
		agree bool
	}{
		{name: "short ascii", input: "chat.txt.pub-sub", agree: true},
		{name: "100 ascii", input: strings.Repeat("x", 100), agree: true},
		{name: "200 ascii", input: strings.Repeat("x", 200), agree: false},
		{name: "1000 ascii", input: strings.Repeat("x", 1000), agree: false},
		{name: "long slot name", input: strings.Repeat("pyzo.kernel.", 20) + "txt.pub-sub", agree: false},
		{name: "cjk", input: strings.Repeat("中文", 100), agree: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, _ := refHash(tt.input)
			require.Equal(t, want, Hash(tt.input))
			if tt.agree {
				assert.Equal(t, want, naiveHash(tt.input))
			} else {
				assert.NotEqual(t, want, naiveHash(tt.input))
			}
		})
	}

	// Where the 64-bit version first goes wrong for a run of 'x'.
	first := 0
	for n := 1; n < 400 && first == 0; n++ {
		name := strings.Repeat("x", n)
		if want, _ := refHash(name); naiveHash(name) != want {
			first = n
		}
	}
	assert.Greater(t, first, 100)
	assert.Less(t, first, 200)
}

// TestStep drives the multi-word addition through its corner cases: limbs
// full of ones (the carry reaches 3), a two-limb addend, and growth.
func TestStep(t *testing.T) {
	toBig := func(val []uint64) *big.Int {
		x := new(big.Int)
		for i := len(val) - 1; i >= 0; i-- {
			x.Lsh(x, 64)
			x.Or(x, new(big.Int).SetUint64(val[i]))
		}
		return x
	}
	const ones = ^uint64(0)
	tests := []struct {
		name   string
		val    []uint64
		hi, lo uint64
	}{
		{name: "zero", val: []uint64{0}},
		{name: "one limb full", val: []uint64{ones}, lo: ones},
		{name: "one limb with hi addend", val: []uint64{5}, hi: 7, lo: 9},
		{name: "two limbs full", val: []uint64{ones, ones}, hi: ones, lo: ones},
		{name: "three limbs full", val: []uint64{ones, ones, ones}, hi: ones, lo: ones},
		{name: "shift bits cross limbs", val: []uint64{0, 7, 1 << 63}, lo: 1},
		{name: "sparse", val: []uint64{1, 0, 0, 0x8000000000000001}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := toBig(tt.val)
			add := new(big.Int).Lsh(new(big.Int).SetUint64(tt.hi), 64)
			add.Or(add, new(big.Int).SetUint64(tt.lo))
			want := new(big.Int).Add(in, new(big.Int).Rsh(in, 3))
			want.Add(want, add)

			got := step(append([]uint64(nil), tt.val...), tt.hi, tt.lo)
			assert.Equal(t, 0, want.Cmp(toBig(got)), "got %s, want %s", toBig(got), want)
		})
	}
}

func TestHashRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pool := []rune("abc.xyz-中😀")
	for range 2000 {
		name := randomName(rng, pool, rng.IntN(300))
		require.GreaterOrEqual(t, Hash(name), uint64(8), "%q", name)
		port := PortHash(name)
		require.GreaterOrEqual(t, port, 49152)
		require.LessOrEqual(t, port, 65535)
	}
	assert.Less(t, ConnectionSlot, uint64(8))
	assert.Less(t, ContextSlot, uint64(8))
	assert.NotEqual(t, ConnectionSlot, ContextSlot)
}

// TestHashInvalidUTF8 checks that each invalid byte counts as U+FFFD, as
// a Go range loop decodes it.
func TestHashInvalidUTF8(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{name: "lone continuation byte", input: "a\x80b"},
		{name: "truncated sequence", input: "chat\xe4\xb8"},
		{name: "encoded surrogate", input: "\xed\xa0\x80x"},
		{name: "0xff", input: "\xff\xfe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replaced := string([]rune(tt.input))
			assert.Equal(t, Hash(replaced), Hash(tt.input))
			assert.Equal(t, PortHash(replaced), PortHash(tt.input))
		})
	}
}

func BenchmarkHash(b *testing.B) {
	for _, n := range []int{16, 100, 1000, 10000} {
		name := strings.Repeat("x", n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(name)))
			for b.Loop() {
				Hash(name)
			}
		})
	}
}
