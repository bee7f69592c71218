// Command multireqrep is the "multiple request/reply" network of the yoton
// docs: several requesters and several repliers at one slot. Each request
// goes to one replier, the first free one to offer to take it, so the work
// spreads over the repliers; the transcript shows which replier served
// which request.
//
// The contexts form a star around a hub, a context without channels that
// only relays packages: a yoton bind serves one connection, so the hub
// binds one port per participant (base+0, base+1, ...) and every replier
// and requester connects to one of them. Each replier takes one request at
// a time, working on it for -work.
//
//	go run ./examples/multireqrep                        # 3 repliers, 2 requesters, one process
//	go run ./examples/multireqrep -repliers 4 -requesters 3 -requests 5
//
// As separate processes (the hub first; each connects to its own port):
//
//	go run ./examples/multireqrep -role hub -addr localhost:yotonmulti -ports 4
//	go run ./examples/multireqrep -role replier -name A -addr localhost:yotonmulti+0
//	go run ./examples/multireqrep -role replier -name B -addr localhost:yotonmulti+1
//	go run ./examples/multireqrep -role requester -name r1 -addr localhost:yotonmulti+2
//
// -external n makes the hub of a one-process run bind n more ports and
// wait for n repliers from other processes (such as the Python replier in
// README.md) before it starts the requests.
//
// It exits 0 after printing a transcript, or 1 with an error message.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/examples/internal/ports"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// workSlot is the request/reply slot base: work.obj.req-rep.
const workSlot = "work"

// config holds the command-line settings.
type config struct {
	role       string        // "all", "hub", "replier" or "requester"
	addr       string        // the hub's first port, or the hub port a replier or requester connects to
	name       string        // name of a single replier or requester
	repliers   int           // repliers in a one-process run
	requesters int           // requesters in a one-process run
	requests   int           // requests per requester
	work       time.Duration // time a replier works on one request
	external   int           // repliers from other processes to wait for
	ports      int           // ports the hub binds in the hub role
	timeout    time.Duration // bound on a run that ends by itself
}

func main() {
	var cfg config
	flag.StringVar(&cfg.role, "role", "all", `what to run: "all" (hub, repliers and requesters here), "hub", "replier" or "requester"`)
	flag.StringVar(&cfg.addr, "addr", "",
		`the hub's first port (it binds that one and the next ones), or for -role replier/requester the hub port to connect to (default 127.0.0.1:0, free ports, for -role all; localhost:yotonmulti otherwise)`)
	flag.StringVar(&cfg.name, "name", "", "name of the replier or requester (-role replier/requester)")
	flag.IntVar(&cfg.repliers, "repliers", 3, "repliers (-role all)")
	flag.IntVar(&cfg.requesters, "requesters", 2, "requesters (-role all)")
	flag.IntVar(&cfg.requests, "requests", 4, "requests each requester makes")
	flag.DurationVar(&cfg.work, "work", 100*time.Millisecond, "how long a replier works on one request")
	flag.IntVar(&cfg.external, "external", 0, "repliers from other processes to wait for (-role all)")
	flag.IntVar(&cfg.ports, "ports", 5, "ports the hub binds (-role hub)")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "give up after this long (hub and replier roles run until Ctrl-C)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "multireqrep:", err)
		os.Exit(1)
	}
}

// run starts the roles cfg asks for and writes the transcript to w.
// Every goroutine it starts has ended when it returns.
func run(ctx context.Context, w io.Writer, cfg config) (err error) {
	if err := check(&cfg); err != nil {
		return err
	}
	out := &printer{w: w}
	r, err := reactor.New()
	if err != nil {
		return fmt.Errorf("start reactor: %w", err)
	}
	var reps []*channels.RepChannel // their workers must have ended before we return
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, rep := range reps {
			if serr := rep.Shutdown(sctx); serr != nil && err == nil {
				err = fmt.Errorf("stop replier: %w", serr)
			}
		}
		if cerr := r.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close reactor: %w", cerr)
		}
		if err == nil {
			out.printf("closed cleanly")
		}
	}()

	switch cfg.role {
	case "hub":
		if _, _, err := startHub(r, cfg.addr, cfg.ports, out); err != nil {
			return err
		}
		<-ctx.Done()
		out.printf("hub: stopping (%v)", context.Cause(ctx))
		return nil
	case "replier":
		cctx, cancel := context.WithTimeout(ctx, cfg.timeout) // bounds the connect
		rep, err := startReplier(cctx, r, cfg.name, cfg.addr, cfg.work, out)
		cancel()
		if rep != nil {
			reps = append(reps, rep)
		}
		if err != nil {
			return err
		}
		<-ctx.Done()
		out.printf("replier %s: stopping (%v)", cfg.name, context.Cause(ctx))
		return nil
	case "requester":
		ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
		rq, err := startRequester(ctx, r, cfg.name, cfg.addr, out)
		if err != nil {
			return err
		}
		served, err := rq.request(ctx, cfg.requests)
		if err != nil {
			return err
		}
		printSummary(out, served, nil)
		return nil
	}

	// All roles in this process, on one reactor.
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	total := cfg.repliers + cfg.requesters + cfg.external
	addrs, joined, err := startHub(r, cfg.addr, total, out)
	if err != nil {
		return err
	}
	var names []string
	for i := range cfg.repliers {
		name := string(rune('A' + i))
		rep, err := startReplier(ctx, r, name, addrs[i], cfg.work, out)
		if rep != nil {
			reps = append(reps, rep)
		}
		if err != nil {
			return err
		}
		names = append(names, name)
	}
	var rqs []*requester
	for i := range cfg.requesters {
		rq, err := startRequester(ctx, r, fmt.Sprintf("r%d", i+1), addrs[cfg.repliers+i], out)
		if err != nil {
			return err
		}
		rqs = append(rqs, rq)
	}
	for _, a := range addrs[cfg.repliers+cfg.requesters:] {
		out.printf("hub: waiting for a replier from another process at %s", a)
	}
	// Each of the hub's binds is established once its participant has
	// connected and sent its first package.
	for n := 0; n < total; n++ {
		select {
		case <-joined:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d of %d participants to join: %w", total-n, total, ctx.Err())
		}
	}
	if cfg.external > 0 {
		out.printf("hub: all %d participants have joined", total)
	}

	// Every requester sends all its requests at once; the repliers share
	// them.
	type pending struct {
		rq   *requester
		reqs []*call
	}
	var all []pending
	for _, rq := range rqs {
		reqs, err := rq.send(cfg.requests)
		if err != nil {
			return err
		}
		all = append(all, pending{rq, reqs})
	}
	served := map[string][]string{}
	for _, p := range all {
		got, err := p.rq.collect(ctx, p.reqs)
		if err != nil {
			return err
		}
		for k, v := range got {
			served[k] = append(served[k], v...)
		}
	}
	printSummary(out, served, names)
	return nil
}

// check validates cfg and fills in the default address.
func check(cfg *config) error {
	switch cfg.role {
	case "all", "hub", "replier", "requester":
	default:
		return fmt.Errorf("unknown role %q (want all, hub, replier or requester)", cfg.role)
	}
	if cfg.addr == "" {
		cfg.addr = "localhost:yotonmulti"
		if cfg.role == "all" {
			cfg.addr = "127.0.0.1:0"
		}
	}
	switch cfg.role {
	case "all":
		switch {
		case cfg.repliers < 0 || cfg.external < 0:
			return errors.New("-repliers and -external cannot be negative")
		case cfg.repliers+cfg.external < 1:
			return errors.New("need at least one replier (-repliers or -external)")
		case cfg.requesters < 1:
			return errors.New("-requesters must be at least 1")
		}
	case "hub":
		if cfg.ports < 1 {
			return errors.New("-ports must be at least 1")
		}
	case "replier", "requester":
		if cfg.name == "" {
			return fmt.Errorf("-role %s needs a -name", cfg.role)
		}
	}
	if (cfg.role == "all" || cfg.role == "requester") && cfg.requests < 1 {
		return errors.New("-requests must be at least 1")
	}
	return nil
}

// startHub binds n ports from addr on a context without channels and
// returns their addresses, and a channel that receives a value each time
// a context joins the network.
func startHub(r *reactor.Reactor, addr string, n int, out *printer) ([]string, <-chan struct{}, error) {
	hub, err := r.NewContext()
	if err != nil {
		return nil, nil, fmt.Errorf("hub context: %w", err)
	}
	joined := make(chan struct{}, n)
	var addrs []string
	for i := range n {
		a, err := ports.Offset(addr, i)
		if err != nil {
			return nil, nil, err
		}
		conn, err := hub.Bind(a, 1, "")
		if err != nil {
			return nil, nil, err
		}
		host, port := conn.LocalAddr()
		addrs = append(addrs, fmt.Sprintf("%s:%d", host, port))
		go func() { // ends when the bind gets its peer or closes
			select {
			case <-conn.Established():
				joined <- struct{}{}
			case <-conn.Done():
			}
		}()
	}
	out.printf("hub: bound %d ports: %s", n, strings.Join(addrs, " "))
	return addrs, joined, nil
}

// startReplier connects a replier context to the hub at addr. Its
// RepChannel handles one request at a time, on a worker goroutine
// (RepWorkers), so that the loop stays free while it works. The channel
// is returned, for Shutdown, whenever it was created.
func startReplier(ctx context.Context, r *reactor.Reactor, name, addr string, work time.Duration, out *printer) (*channels.RepChannel, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, fmt.Errorf("replier %s context: %w", name, err)
	}
	rep, err := channels.NewRepChannel(x, workSlot)
	if err != nil {
		return nil, err
	}
	err = rep.Register("square", func(ctx context.Context, n int64, from string) (wire.Tuple, error) {
		out.printf("replier %s: working on square(%d) for %s", name, n, from)
		select { // the work itself
		case <-time.After(work):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return wire.Tuple{name, n * n}, nil
	})
	if err != nil {
		return rep, err
	}
	if err := rep.SetMode(channels.RepWorkers); err != nil {
		return rep, err
	}
	if _, err := x.Connect(ctx, addr, "hub"); err != nil {
		return rep, fmt.Errorf("replier %s: %w", name, err)
	}
	out.printf("replier %s: connected to %s", name, addr)
	return rep, nil
}

// requester is one requesting context.
type requester struct {
	name string
	req  *channels.ReqChannel
	out  *printer
}

// call is one request on its way.
type call struct {
	n   int64
	fut *futures.Future[any]
}

func startRequester(ctx context.Context, r *reactor.Reactor, name, addr string, out *printer) (*requester, error) {
	x, err := r.NewContext()
	if err != nil {
		return nil, fmt.Errorf("requester %s context: %w", name, err)
	}
	req, err := channels.NewReqChannel(x, workSlot)
	if err != nil {
		return nil, err
	}
	if _, err := x.Connect(ctx, addr, "hub"); err != nil {
		return nil, fmt.Errorf("requester %s: %w", name, err)
	}
	out.printf("requester %s: connected to %s", name, addr)
	return &requester{name: name, req: req, out: out}, nil
}

// send makes n requests, square(1) to square(n), without waiting. Each
// names its requester, for the repliers' transcript.
func (rq *requester) send(n int) ([]*call, error) {
	var calls []*call
	for i := 1; i <= n; i++ {
		f, err := rq.req.Call("square", []any{i, rq.name}, nil)
		if err != nil {
			return nil, fmt.Errorf("requester %s: %w", rq.name, err)
		}
		calls = append(calls, &call{n: int64(i), fut: f})
	}
	rq.out.printf("requester %s: sent %d requests", rq.name, n)
	return calls, nil
}

// collect waits for the replies, prints who served each request and
// returns, per replier, the requests it served.
func (rq *requester) collect(ctx context.Context, calls []*call) (map[string][]string, error) {
	served := map[string][]string{}
	for _, c := range calls {
		v, err := c.fut.Result(ctx)
		if err != nil {
			return nil, fmt.Errorf("requester %s: square(%d): %w", rq.name, c.n, err)
		}
		by, sq, err := decodeReply(v)
		if err != nil {
			return nil, fmt.Errorf("requester %s: square(%d): %w", rq.name, c.n, err)
		}
		rq.out.printf("requester %s: square(%d) = %d, served by replier %s", rq.name, c.n, sq, by)
		served[by] = append(served[by], fmt.Sprintf("%s#%d", rq.name, c.n))
	}
	return served, nil
}

// request sends n requests and collects their replies.
func (rq *requester) request(ctx context.Context, n int) (map[string][]string, error) {
	calls, err := rq.send(n)
	if err != nil {
		return nil, err
	}
	return rq.collect(ctx, calls)
}

// decodeReply reads a replier's (name, square) tuple; a Python replier
// sends the same tuple.
func decodeReply(v any) (string, int64, error) {
	t, ok := v.(wire.Tuple)
	if ok && len(t) == 2 {
		name, ok1 := t[0].(string)
		sq, ok2 := t[1].(int64)
		if ok1 && ok2 {
			return name, sq, nil
		}
	}
	return "", 0, fmt.Errorf("unexpected reply %s", wire.Repr(v))
}

// printSummary prints how many requests each replier served; names are
// the repliers expected to appear, even with no request.
func printSummary(out *printer, served map[string][]string, names []string) {
	for _, n := range names {
		if _, ok := served[n]; !ok {
			served[n] = nil
		}
	}
	total := 0
	for _, name := range slices.Sorted(maps.Keys(served)) {
		out.printf("replier %s served %d: %s", name, len(served[name]), strings.Join(served[name], " "))
		total += len(served[name])
	}
	busy := 0
	for _, s := range served {
		if len(s) > 0 {
			busy++
		}
	}
	out.printf("%d requests spread over %d of %d repliers", total, busy, len(served))
}

// printer serialises the transcript: repliers print from their worker
// goroutines.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
