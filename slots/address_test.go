package slots

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAddrs stands in for this machine's public IPv4 addresses.
var fakeAddrs = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6",
	"10.0.0.7", "10.0.0.8", "10.0.0.9", "10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.13"}

func fakeLookup() ([]string, error) { return fakeAddrs, nil }

// TestParseAddress covers every accepted form. The expectations marked
// "python" are what split_address returned in Python yoton 2.2:
//
//	PYTHONPATH=/tmp/pyzo/root/usr/share/pyzo/pyzo python3 -c 'import yoton.misc as m; print(m.split_address("TCP://LocalHost:chat+3"))'
func TestParseAddress(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Address
	}{
		{name: "ip and port", input: "1.2.3.4:8080", want: Address{"tcp", "1.2.3.4", 8080}},
		{name: "host name", input: "example.com:80", want: Address{"tcp", "example.com", 80}},
		{name: "localhost", input: "localhost:1", want: Address{"tcp", "127.0.0.1", 1}},
		{name: "localhost any case", input: "LocalHOST:1", want: Address{"tcp", "127.0.0.1", 1}},
		{name: "python: hashed port", input: "localhost:chat", want: Address{"tcp", "127.0.0.1", 49264}},
		{name: "python: protocol, offset", input: "TCP://LocalHost:chat+3", want: Address{"tcp", "127.0.0.1", 49267}},
		{name: "python: negative offset", input: "example.com:chat+-2", want: Address{"tcp", "example.com", 49262}},
		{name: "python: other protocol", input: "zmq://1.2.3.4:9_000", want: Address{"zmq", "1.2.3.4", 9000}},
		{name: "python: empty host, fullwidth digits", input: ":  ８０ ", want: Address{"tcp", "", 80}},
		{name: "python: arabic-indic digits", input: "tcp://h:\u0663\u0664", want: Address{"tcp", "h", 34}},
		{name: "python: colon in port name", input: "h:foo:bar", want: Address{"tcp", "h", 55774}},
		{name: "python: empty protocol", input: "://h:1", want: Address{"tcp", "h", 1}},
		{name: "python: minus zero", input: "h:-0", want: Address{"tcp", "h", 0}},
		{name: "python: largest port", input: "h:65535", want: Address{"tcp", "h", 65535}},
		{name: "python: port zero", input: "h:0", want: Address{"tcp", "h", 0}},
		{name: "python: offset with space and underscore", input: "h:a+ 1_0 ", want: Address{"tcp", "h", 65284}},
		{name: "python: publichost21 is a literal host", input: "publichost21:1", want: Address{"tcp", "publichost21", 1}},
		{name: "plus sign integer", input: "h:+22", want: Address{"tcp", "h", 22}},
		{name: "offset on hashed port", input: "h:chat+0", want: Address{"tcp", "h", PortHash("chat")}},
		{name: "hashed port that looks numeric", input: "h:5+3", want: Address{"tcp", "h", PortHash("5") + 3}},
		{name: "port name with spaces", input: "h:my port", want: Address{"tcp", "h", PortHash("my port")}},
		{name: "protocol split at first ://", input: "a://b:c://d", want: Address{"a", "b", PortHash("c://d")}},
		{name: "publichost", input: "publichost:5", want: Address{"tcp", "10.0.0.1", 5}},
		{name: "publichost any case", input: "PublicHost:5", want: Address{"tcp", "10.0.0.1", 5}},
		{name: "publichost index", input: "PUBLICHOST2:5", want: Address{"tcp", "10.0.0.3", 5}},
		{name: "publichost index 12 (substring 12)", input: "publichost12:5", want: Address{"tcp", "10.0.0.13", 5}},
		{name: "publichost leading zero", input: "publichost01:5", want: Address{"tcp", "10.0.0.2", 5}},
		{name: "publichost minus is literal", input: "publichost-1:5", want: Address{"tcp", "publichost-1", 5}},
		{name: "go: IPv6 loopback", input: "[::1]:80", want: Address{"tcp", "::1", 80}},
		{name: "go: unix socket", input: "IPC:///tmp/x:1.sock", want: Address{"ipc", "/tmp/x:1.sock", 0}},
		{name: "go: IPv6, named port", input: "tcp://[2001:DB8::1]:chat+3", want: Address{"tcp", "2001:db8::1", 49267}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAddress(tt.input, fakeLookup)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseAddressErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		hint  string // part of the message that says what is wrong
	}{
		{name: "no colon", input: "foo", hint: `"foo": missing ':' between host and port`},
		{name: "empty", input: "", hint: "missing ':'"},
		{name: "colon only in protocol", input: "tcp://foo", hint: "missing ':'"},
		{name: "empty port", input: "localhost:", hint: "empty port name"},
		{name: "blank port", input: "localhost:  ", hint: "empty port name"},
		{name: "empty name before offset", input: "localhost:+3x", hint: "invalid offset"},
		{name: "empty name with offset", input: "localhost:+ 3", hint: "empty port name"},
		{name: "invalid offset", input: "localhost:chat+x", hint: `invalid offset "x"`},
		{name: "empty offset", input: "localhost:chat+", hint: "invalid offset"},
		{name: "offset with decimal point", input: "localhost:chat+1.5", hint: "invalid offset"},
		{name: "offset too large", input: "localhost:chat+99999999999999999999", hint: "offset"},
		{name: "offset pushes past 65535", input: "localhost:chat+20000", hint: "out of range"},
		{name: "offset pushes below 0", input: "localhost:chat+-60000", hint: "out of range"},
		{name: "port 65536", input: "localhost:65536", hint: "port 65536 out of range [0, 65535]"},
		{name: "negative port", input: "localhost:-1", hint: "port -1 out of range"},
		{name: "huge port", input: "localhost:123456789012345678901234567890", hint: "out of range"},
		{name: "bracketed host that is not IPv6", input: "[1.2.3.4]:80", hint: "IPv6"},
		{name: "bracketed host name", input: "[example.com]:80", hint: "IPv6"},
		{name: "IPv6 without port", input: "[::1]", hint: "':'"},
		{name: "ipc without a path", input: "ipc://", hint: "ipc"},
		{name: "IPv6 with zone", input: "[fe80::1%eth0]:80", hint: "IPv6"},
		{name: "host with space", input: "local host:80", hint: "white space"},
		{name: "host with leading space", input: " localhost:80", hint: "white space"},
		{name: "publichost index too big", input: "publichost0123456789:1", hint: "invalid index (123456789) in public host addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAddress(tt.input, fakeLookup)
			require.ErrorIs(t, err, ErrInvalidAddress)
			assert.Contains(t, err.Error(), tt.hint)
		})
	}
}

func TestParseAddressPublicHostLookup(t *testing.T) {
	t.Run("not called for other hosts", func(t *testing.T) {
		calls := 0
		lookup := func() ([]string, error) { calls++; return fakeAddrs, nil }
		for _, s := range []string{"localhost:1", "example.com:1", "publichost21:1", "publichostx:1", "public:1"} {
			_, err := parseAddress(s, lookup)
			require.NoError(t, err, s)
		}
		assert.Zero(t, calls)
	})
	t.Run("index out of range", func(t *testing.T) {
		two := func() ([]string, error) { return []string{"10.1.1.1", "10.1.1.2"}, nil }
		a, err := parseAddress("publichost1:9", two)
		require.NoError(t, err)
		assert.Equal(t, "10.1.1.2", a.Host)
		_, err = parseAddress("publichost2:9", two)
		require.ErrorIs(t, err, ErrInvalidAddress)
		assert.Contains(t, err.Error(), "invalid index (2) in public host addresses")
	})
	t.Run("lookup error", func(t *testing.T) {
		errDNS := errors.New("no resolver")
		_, err := parseAddress("publichost:9", func() ([]string, error) { return nil, errDNS })
		require.ErrorIs(t, err, ErrInvalidAddress)
		require.ErrorIs(t, err, errDNS)
	})
}

// TestParseAddressPublicHost resolves publichostN on this machine and
// compares with publicHostAddrs.
func TestParseAddressPublicHost(t *testing.T) {
	addrs, err := publicHostAddrs()
	if err != nil || len(addrs) == 0 {
		t.Skipf("this host has no IPv4 address for its name (%v)", err)
	}
	a, err := ParseAddress("publichost:1234")
	require.NoError(t, err)
	assert.Equal(t, Address{"tcp", addrs[0], 1234}, a)
	for i := range min(len(addrs), 10) {
		a, err := ParseAddress(fmt.Sprintf("PublicHost%d:1234", i))
		require.NoError(t, err)
		assert.Equal(t, addrs[i], a.Host)
	}
	if len(addrs) < 10 {
		_, err := ParseAddress(fmt.Sprintf("publichost%d:1234", len(addrs)))
		require.ErrorIs(t, err, ErrInvalidAddress)
	}
}

func TestAddressString(t *testing.T) {
	tests := []struct {
		addr Address
		want string
	}{
		{addr: Address{"tcp", "127.0.0.1", 8080}, want: "127.0.0.1:8080"},
		{addr: Address{"tcp", "", 80}, want: ":80"},
		{addr: Address{"tcp", "example.com", 0}, want: "example.com:0"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.addr.String())
		})
	}
}

// TestPyInt checks int() syntax; expectations are Python 3.11's int(s)
// (nil error where int() returned the value, errIntSyntax where it raised
// ValueError).
func TestPyInt(t *testing.T) {
	tests := []struct {
		input string
		want  int64
		err   error
	}{
		{input: "0", want: 0},
		{input: "00", want: 0},
		{input: "01", want: 1},
		{input: " 5 ", want: 5},
		{input: "\t\n\v\f\r5\r\n", want: 5},
		{input: "+5", want: 5},
		{input: "-5", want: -5},
		{input: "1_000", want: 1000},
		{input: "0_1", want: 1},
		{input: "\u00a05", want: 5},
		{input: "\u30005\u2028", want: 5},
		{input: "８０", want: 80},
		{input: "\u0663", want: 3},
		{input: "1\u0663", want: 13},
		{input: "1_\u0663", want: 13},
		{input: "\U0001D7CE", want: 0},
		{input: "\U0001D7FF", want: 9},
		{input: "9223372036854775807", want: 9223372036854775807},
		{input: "-9223372036854775808", want: -9223372036854775808},
		{input: "9223372036854775808", err: errIntRange},
		{input: "-9223372036854775809", err: errIntRange},
		{input: "99999999999999999999999", err: errIntRange},
		{input: "", err: errIntSyntax},
		{input: "  ", err: errIntSyntax},
		{input: "+", err: errIntSyntax},
		{input: "-", err: errIntSyntax},
		{input: "+ 5", err: errIntSyntax},
		{input: "\x1c5", err: errIntSyntax},
		{input: "5\x1f", err: errIntSyntax},
		{input: "1__0", err: errIntSyntax},
		{input: "_1", err: errIntSyntax},
		{input: "1_", err: errIntSyntax},
		{input: "+_1", err: errIntSyntax},
		{input: "0x10", err: errIntSyntax},
		{input: "5.0", err: errIntSyntax},
		{input: "\u00b2", err: errIntSyntax},
		{input: "1\x002", err: errIntSyntax},
		{input: "1\x7f", err: errIntSyntax},
		{input: "1 2", err: errIntSyntax},
		{input: "99999999999999999999999x", err: errIntSyntax},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.input), func(t *testing.T) {
			got, err := pyInt(tt.input)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseAddress(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzParseAddress.
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAddress(s, fakeLookup)
		if err != nil {
			if !errors.Is(err, ErrInvalidAddress) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidAddress", s, err)
			}
			return
		}
		if a.Port < 0 || a.Port > 65535 {
			t.Fatalf("%q: port %d out of range", s, a.Port)
		}
		if a.Protocol == "" {
			t.Fatalf("%q: empty protocol", s)
		}
		// The dialable form parses back to the same host and port.
		b, err := parseAddress(a.String(), fakeLookup)
		if err != nil {
			t.Fatalf("%q: String() = %q does not parse: %v", s, a.String(), err)
		}
		if b.Host != a.Host || b.Port != a.Port {
			t.Fatalf("%q: %+v round-trips to %+v", s, a, b)
		}
	})
}
