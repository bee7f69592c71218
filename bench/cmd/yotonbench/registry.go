package main

import (
	"fmt"
	"slices"
	"strings"
)

// kind is a family of scenarios. Each kind needs some roles of a system:
// a system takes part in a kind when it implements all of them.
type kind string

const (
	kindPubSub kind = "pubsub" // scenarios 1 (1→1), 2 (fan-out) and 5 (interop)
	kindReqRep kind = "reqrep" // scenario 3
	kindScale  kind = "scale"  // scenario 4
)

var kindRoles = map[kind][]string{
	kindPubSub: {"sub", "pub"},
	kindReqRep: {"rep", "req"},
	kindScale:  {"hub", "clients"},
}

// launcherKind says which program runs a system's roles.
type launcherKind int

const (
	launchSelf   launcherKind = iota // this executable, -role system.role
	launchLibzmq                     // this executable built with -tags libzmq
	launchPython                     // python/pubsub.py or python/reqrep.py
)

// system is one implementation under test. Roles run in child processes:
// for Go systems the code of each role is in roleFuncs (registerRole).
type system struct {
	key   string // -systems name
	name  string // in tables
	about string // what it is, for the report
	// settings: what the benchmark sets (queues, high-water marks,
	// windows), for the report; "{outstanding}" stands for -outstanding.
	settings string
	// defaults: the library's own defaults for what settings changes.
	// A system with defaults runs the defaults scenario (pub/sub with
	// -defaults: nothing set); one without (raw TCP) has no queue that
	// could drop and does not.
	defaults string
	launcher launcherKind
	// roles implemented, for systems run by another program (libzmq,
	// Python); a launchSelf system implements the roles in roleFuncs.
	roles   []string
	pending map[kind]string // kinds not implemented yet, and why
	// sync: pub/sub needs the probe handshake because subscriptions reach
	// the publisher asynchronously (ZeroMQ's slow joiner, mangos' pipes).
	sync bool
	// hubBinds: in the scale scenario the hub binds one port and the
	// clients connect (every system with a hub now, Go yoton through
	// Context.Listen); otherwise each client binds its own ports, says
	// READY with them, and the hub connects out to all of them.
	hubBinds bool
	// First calibration counts for small (< 64 KiB) and large payloads.
	startSmall, startLarge int64
}

func (s *system) hasRole(role string) bool {
	if s.launcher == launchSelf {
		return roleFuncs[s.key+"."+role] != nil
	}
	return slices.Contains(s.roles, role)
}

// supports reports whether s implements every role of kind k.
func (s *system) supports(k kind) bool {
	for _, r := range kindRoles[k] {
		if !s.hasRole(r) {
			return false
		}
	}
	return true
}

// Keys of the systems, in table order.
const (
	sysGoyoton  = "goyoton"
	sysPython   = "python"
	sysLibzmq   = "libzmq"
	sysGozmq    = "gozmq"
	sysMangos   = "mangos"
	sysTCP      = "tcp"
	sysTCPAlloc = "tcpalloc"
)

var (
	systemsByKey = map[string]*system{}
	systemOrder  []string
)

func registerSystem(s *system) {
	if _, dup := systemsByKey[s.key]; dup {
		panic(fmt.Sprintf("system %q registered twice", s.key))
	}
	systemsByKey[s.key] = s
	systemOrder = append(systemOrder, s.key)
}

// registerPending marks kind k of a system as not available yet: its rows
// say why instead of showing numbers.
func registerPending(key string, k kind, why string) {
	s := systemsByKey[key]
	if s.pending == nil {
		s.pending = map[kind]string{}
	}
	s.pending[k] = why
}

// The systems, in the order of the tables. Roles of Go systems are
// registered by their sys_*.go files.
func init() {
	registerSystem(&system{
		key: sysGoyoton, name: "Go yoton", launcher: launchSelf, hubBinds: true,
		about: "this library; TCP_NODELAY (its default)",
		settings: "`reactor.WithQueue(1<<20, DiscardNew)` on every context (queues of 2^20 packages); " +
			"replier `channels.WithWindow({outstanding})` in event mode",
		defaults: "queues of 10,000 packages that drop the oldest (`reactor.WithQueue(10000, DiscardOld)`), " +
			"256 MiB of payload each; replier window 1",
		startSmall: 20000, startLarge: 50,
	})
	registerSystem(&system{
		key: sysPython, name: "Python yoton", launcher: launchPython,
		about:    "Debian's pyzo copy of yoton 2.2, as shipped (Nagle on)",
		settings: "`queue_params=(2**20, \"new\")` on every context; replier in thread mode (one request at a time)",
		defaults: "`queue_params=(10000, \"old\")`",
		roles:    []string{"sub", "pub", "rep", "req"}, startSmall: 2000, startLarge: 50,
	})
	registerSystem(&system{
		key: sysLibzmq, name: "libzmq", launcher: launchLibzmq, sync: true, hubBinds: true,
		roles: []string{"sub", "pub", "rep", "req", "hub", "clients"},
		about: "libzmq via cgo (github.com/pebbe/zmq4); one I/O thread",
		settings: "SNDHWM = RCVHWM = 0 (no limit) and MAXMSGSIZE −1 on every socket; " +
			"req/rep: REQ (1 in flight), DEALER ({outstanding} in flight)",
		defaults:   "SNDHWM = RCVHWM = 1,000 messages (a PUB drops what does not fit)",
		startSmall: 50000, startLarge: 50,
	})
	registerSystem(&system{
		key: sysGozmq, name: "go-zeromq", launcher: launchSelf, sync: true,
		about:      "github.com/go-zeromq/zmq4 (pure Go ZeroMQ)",
		settings:   "nothing set: HWM 0 (an unbounded PUB queue); req/rep: REQ (1 in flight), DEALER ({outstanding} in flight)",
		defaults:   "HWM 0 (unbounded): the same as the benchmark's",
		startSmall: 20000, startLarge: 50,
	})
	registerSystem(&system{
		key: sysMangos, name: "mangos", launcher: launchSelf, sync: true,
		about: "go.nanomsg.org/mangos/v3 (pure Go nng)",
		settings: "PUB `OptionWriteQLen` and SUB `OptionReadQLen` = messages per run + 1,024; " +
			"`OptionMaxRecvSize` 0 (no limit); req/rep: {outstanding} contexts on one REQ socket",
		defaults:   "write and read queues of 128 messages (a PUB drops what does not fit); receive limit 1 MiB",
		startSmall: 20000, startLarge: 50,
	})
	registerSystem(&system{
		key: sysTCP, name: "raw TCP (discard)", launcher: launchSelf,
		about:      "8-byte length prefix; the subscriber skips payloads (bufio.Reader.Discard)",
		settings:   "64 KiB bufio reader and writer; no queue that could drop",
		startSmall: 100000, startLarge: 100,
	})
	registerSystem(&system{
		key: sysTCPAlloc, name: "raw TCP (alloc)", launcher: launchSelf, hubBinds: true,
		about:      "as raw TCP, but one new buffer per received message (io.ReadFull into make([]byte, n)); req/rep: an echo server",
		settings:   "64 KiB bufio reader and writer; no queue that could drop",
		startSmall: 100000, startLarge: 100,
	})
}

// info describes s for the report, with -outstanding written into its
// settings.
func (s *system) info(outstanding int) systemInfo {
	return systemInfo{Key: s.key, Name: s.name, About: s.about,
		Settings: strings.ReplaceAll(s.settings, "{outstanding}", fmt.Sprint(outstanding)), Defaults: s.defaults}
}
