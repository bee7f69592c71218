package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Words of the line protocol between the runner and its children. Children
// write them on stdout; the runner writes GO and SEND on a child's stdin
// and closes that stdin to tell it to end.
const (
	readyWord      = "READY"      // READY addr[,addr...]: the binding side listens
	subscribedWord = "SUBSCRIBED" // every subscriber socket saw a probe (-sync)
	sentWord       = "SENT"       // pub: everything sent; hub: SENT round unixnano
	resultWord     = "RESULT"     // RESULT {json}: what the child measured
	upWord         = "UP"         // UP {json}: the scale hub holds every connection
	connectedWord  = "CONNECTED"  // scale clients: every client socket connected
	connectingWord = "CONNECTING" // CONNECTING n rss: scale hub progress, every second
	gotWord        = "GOT"        // GOT round unixnano: every client of a process got a round
	goWord         = "GO"         // runner → pub: stop probing, start the run
	sendWord       = "SEND"       // runner → hub: SEND round
	childEnv       = "YOTONBENCH_CHILD"
	benchSlot      = "bench"          // pub/sub channels (python/pubsub.py's SLOT)
	benchRRSlot    = "benchrr"        // req/rep channels (python/reqrep.py's SLOT)
	firstGrace     = 30 * time.Second // extra wait for the first message
	probeEvery     = 5 * time.Millisecond
)

// result is what a child reports in its RESULT (or UP) line. Each role
// fills the fields that apply to it.
type result struct {
	// pub/sub: messages and payload bytes that arrived (probes excluded),
	// and the time from the first to the last of them.
	Count   int64   `json:"count,omitempty"`
	Bytes   int64   `json:"bytes,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
	CPUUser float64 `json:"cpu_user,omitempty"`
	CPUSys  float64 `json:"cpu_sys,omitempty"`

	// req: completed calls in Seconds; latency percentiles in µs (one
	// outstanding call only).
	Calls  int64   `json:"calls,omitempty"`
	P50us  float64 `json:"p50_us,omitempty"`
	P99us  float64 `json:"p99_us,omitempty"`
	P999us float64 `json:"p999_us,omitempty"`
	MeanUs float64 `json:"mean_us,omitempty"`
	// Go yoton req: calls made over the whole run (warm-up included) and
	// how many of them took the Go-to-Go fast path (ReqChannel.FastCalls).
	AllCalls  int64  `json:"all_calls,omitempty"`
	FastCalls uint64 `json:"fast_calls,omitempty"`

	// scale hub: connections held, RSS before and after connecting them,
	// and how long connecting took.
	Conns     int     `json:"conns,omitempty"`
	RSSBefore int64   `json:"rss_before,omitempty"`
	RSSAfter  int64   `json:"rss_after,omitempty"`
	Setup     float64 `json:"setup_seconds,omitempty"`
}

// roleArgs are the flags of a child process. Python children take the
// same flags (python/*.py).
type roleArgs struct {
	role        string  // system.role, e.g. "libzmq.sub"
	addrs       string  // comma-separated host:port list of the peers
	addrFile    string  // file holding addrs (scale: too many for argv)
	size        int     // payload bytes
	count       int64   // pub: messages to send; sub: messages to expect per socket
	subs        int     // sub: sockets (contexts) to bind
	conns       int     // scale: connections (hub: all; clients: this process's)
	sync        bool    // pub: probe until GO; sub: say SUBSCRIBED after the probes
	idle        float64 // sub: give up after this many seconds without a message
	mode        string  // req: latency or throughput
	outstanding int     // req: calls in flight in throughput mode; goyoton rep: its window
	duration    float64 // req: measured seconds
	warmup      float64 // req: unmeasured seconds before
	recvMode    string  // goyoton sub: callback or goroutine
	defaults    bool    // pub/sub: the library's default queues and limits (scenario 6)
	cpuprofile  string
}

func roleFlags(fs *flag.FlagSet, a *roleArgs) {
	fs.StringVar(&a.role, "role", "", "run as a child process: system.role (used by the runner)")
	fs.StringVar(&a.addrs, "addr", "", "role: comma-separated addresses of the peers")
	fs.StringVar(&a.addrFile, "addrfile", "", "role: file holding the addresses of the peers")
	fs.IntVar(&a.size, "size", 64, "role: payload size in bytes")
	fs.Int64Var(&a.count, "count", 1000, "role: messages to send, or to expect per socket")
	fs.IntVar(&a.subs, "subs", 1, "role: subscriber sockets to bind")
	fs.IntVar(&a.conns, "nconns", 1, "role: connections of this process (scale)")
	fs.BoolVar(&a.sync, "sync", false, "role: probe handshake before the run (pub/sub)")
	fs.Float64Var(&a.idle, "idle", 10, "role: seconds without a message before the subscriber gives up")
	fs.StringVar(&a.mode, "mode", "latency", "role: req mode, latency or throughput")
	fs.Float64Var(&a.duration, "duration", 1, "role: seconds of measured calls")
	fs.Float64Var(&a.warmup, "warmup", 0.2, "role: seconds of unmeasured calls first")
	fs.StringVar(&a.recvMode, "recv", recvCallback, "role: goyoton subscriber, callback or goroutine")
	fs.BoolVar(&a.defaults, "defaults", false, "role: pub/sub with the library's default queues and limits instead of the benchmark's")
	fs.StringVar(&a.cpuprofile, "cpuprofile", "", "role: write a CPU profile to this file")
}

// addrList returns the peers' addresses from -addr or -addrfile.
func (a roleArgs) addrList() ([]string, error) {
	s := a.addrs
	if a.addrFile != "" {
		b, err := os.ReadFile(a.addrFile)
		if err != nil {
			return nil, err
		}
		s = strings.TrimSpace(string(b))
	}
	if s == "" {
		return nil, errors.New("no peer address (-addr)")
	}
	return strings.Split(s, ","), nil
}

// roleFunc runs one side of a scenario in a child process.
type roleFunc func(a roleArgs, io *childIO) error

// roleFuncs maps "system.role" to the Go code of that role. Systems add
// theirs from init functions (sys_*.go).
var roleFuncs = map[string]roleFunc{}

func registerRole(system, role string, fn roleFunc) {
	roleFuncs[system+"."+role] = fn
}

// childIO is a child's side of the line protocol: say writes a line to
// stdout (safe for concurrent use); lines delivers stdin's lines and is
// closed at EOF.
type childIO struct {
	mu    sync.Mutex
	out   io.Writer
	lines <-chan string
}

func (c *childIO) say(format string, args ...any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := fmt.Fprintf(c.out, format+"\n", args...)
	return err
}

// sayJSON writes "word {json}".
func (c *childIO) sayJSON(word string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.say("%s %s", word, b)
}

// waitEOF waits until the runner closes stdin.
func (c *childIO) waitEOF() {
	for range c.lines {
	}
}

// probeUntilGo calls probe every probeEvery until the runner says GO
// (after the subscriber saw a probe on every socket).
func (c *childIO) probeUntilGo(probe func() error) error {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	if err := probe(); err != nil {
		return err
	}
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return errors.New("stdin closed before GO")
			}
			if l == goWord {
				return nil
			}
		case <-t.C:
			if err := probe(); err != nil {
				return err
			}
		}
	}
}

// runRole runs this process as one side of a scenario.
func runRole(a roleArgs, stdin io.Reader, stdout io.Writer) error {
	fn := roleFuncs[a.role]
	if fn == nil {
		return fmt.Errorf("unknown role %q (a libzmq role needs a build with -tags libzmq)", a.role)
	}
	if a.cpuprofile != "" {
		f, err := os.Create(a.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	raiseFileLimit()
	lines := make(chan string, 16)
	go func() { // ends at EOF; the process exits after the role returns
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
	}()
	return fn(a, &childIO{out: stdout, lines: lines})
}

// raiseFileLimit raises RLIMIT_NOFILE as far as allowed: the scale
// scenario holds tens of thousands of sockets.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	want := uint64(1 << 18)
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil { // root may
			return
		}
	}
	lim.Cur = lim.Max
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// counter counts the messages that arrive at a subscriber, from any number
// of goroutines. Probes are not counted.
type counter struct {
	want  int64 // messages expected (over every socket)
	count atomic.Int64
	bytes atomic.Int64
	first atomic.Int64 // unix nanoseconds of the first message
	last  atomic.Int64 // unix nanoseconds when the want-th message arrived
	done  chan struct{}
}

func newCounter(want int64) *counter {
	return &counter{want: want, done: make(chan struct{})}
}

// add counts n messages of b payload bytes in total.
func (c *counter) add(n, b int64) {
	if n == 0 {
		return
	}
	if c.first.Load() == 0 {
		c.first.CompareAndSwap(0, time.Now().UnixNano())
	}
	c.bytes.Add(b)
	v := c.count.Add(n)
	if v >= c.want && v-n < c.want {
		c.last.Store(time.Now().UnixNano())
		close(c.done)
	}
}

// wait returns once every expected message arrived, or nothing arrived for
// idle seconds (idle+firstGrace before the first message), and reports.
func (c *counter) wait(idle float64) result {
	idleD := time.Duration(idle * float64(time.Second))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last, lastAt := int64(0), time.Now()
	deadline := lastAt.Add(idleD + firstGrace)
wait:
	for {
		select {
		case <-c.done:
			break wait
		case now := <-tick.C:
			if n := c.count.Load(); n != last {
				last, lastAt, deadline = n, now, now.Add(idleD)
			} else if now.After(deadline) {
				break wait
			}
		}
	}
	end := c.last.Load()
	if end == 0 { // lost some: the last progress seen is close enough
		end = lastAt.UnixNano()
	}
	res := result{Count: c.count.Load(), Bytes: c.bytes.Load()}
	if f := c.first.Load(); f != 0 && end > f {
		res.Seconds = float64(end-f) / 1e9
	}
	res.CPUUser, res.CPUSys = selfCPU()
	return res
}

// selfCPU returns this process's user and system CPU seconds.
func selfCPU() (user, sys float64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds()
}

// probes tracks the probe handshake of a subscriber with several sockets:
// seen(i) marks socket i, and the first time every socket was marked it
// says SUBSCRIBED.
type probes struct {
	io   *childIO
	mu   sync.Mutex
	seen []bool
	left int
}

func newProbes(io *childIO, n int, enabled bool) *probes {
	if !enabled {
		return nil
	}
	return &probes{io: io, seen: make([]bool, n), left: n}
}

// isProbe reports whether m is a probe (one byte; payloads are larger)
// and, if so, marks socket i.
func (p *probes) isProbe(i int, m []byte) bool {
	if len(m) != 1 {
		return false
	}
	if p == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.seen[i] {
		p.seen[i] = true
		p.left--
		if p.left == 0 {
			_ = p.io.say(subscribedWord)
		}
	}
	return true
}

// probeMsg is what publishers send until GO.
var probeMsg = []byte{0}

// makePayload returns a payload of size bytes.
func makePayload(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

// latencies collects the round-trip times of calls.
type latencies []time.Duration

// summarize fills the latency fields of r (µs).
func (l latencies) summarize(r *result) {
	if len(l) == 0 {
		return
	}
	s := sortedDurations(l)
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	r.P50us, r.P99us, r.P999us = us(percentile(s, 0.50)), us(percentile(s, 0.99)), us(percentile(s, 0.999))
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	r.MeanUs = us(sum / time.Duration(len(s)))
}

// callLoop runs call for warmup seconds unmeasured, then for duration
// seconds measured, and reports calls per second and, when timed, the
// latency of each call.
func callLoop(a roleArgs, timed bool, call func() error) (result, error) {
	warmEnd := time.Now().Add(time.Duration(a.warmup * float64(time.Second)))
	for n := 0; n < 10 || time.Now().Before(warmEnd); n++ {
		if err := call(); err != nil {
			return result{}, fmt.Errorf("warm-up call: %w", err)
		}
	}
	var lat latencies
	if timed {
		lat = make(latencies, 0, 1<<16)
	}
	start := time.Now()
	end := start.Add(time.Duration(a.duration * float64(time.Second)))
	var calls int64
	for now := start; now.Before(end); calls++ {
		if err := call(); err != nil {
			return result{}, fmt.Errorf("call %d: %w", calls, err)
		}
		t := time.Now()
		if timed {
			lat = append(lat, t.Sub(now))
		}
		now = t
	}
	res := result{Calls: calls, Seconds: time.Since(start).Seconds()}
	lat.summarize(&res)
	res.CPUUser, res.CPUSys = selfCPU()
	return res, nil
}

// pipeline keeps a.outstanding calls in flight: send starts one call, recv
// waits for the next reply. It runs for warmup seconds, then counts the
// replies of duration seconds.
func pipeline(a roleArgs, send func() error, recv func() error) (result, error) {
	for i := 0; i < a.outstanding; i++ {
		if err := send(); err != nil {
			return result{}, err
		}
	}
	warmEnd := time.Now().Add(time.Duration(a.warmup * float64(time.Second)))
	var calls int64
	var start, end time.Time
	for {
		if err := recv(); err != nil {
			return result{}, fmt.Errorf("reply %d: %w", calls, err)
		}
		now := time.Now()
		switch {
		case start.IsZero():
			if now.After(warmEnd) {
				start, end = now, now.Add(time.Duration(a.duration*float64(time.Second)))
			}
		case now.After(end):
			res := result{Calls: calls, Seconds: now.Sub(start).Seconds()}
			res.CPUUser, res.CPUSys = selfCPU()
			return res, nil
		default:
			calls++
		}
		if err := send(); err != nil {
			return result{}, err
		}
	}
}

// settledRSS returns the resident set size after a garbage collection
// that returned free memory to the system, so that two readings differ by
// what is live, not by garbage.
func settledRSS() int64 {
	debug.FreeOSMemory()
	return rss()
}

// rss returns this process's resident set size in bytes.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res int64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		return 0
	}
	return res * int64(os.Getpagesize())
}
