package clientserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goyoton/yoton/internal/goid"
	"github.com/goyoton/yoton/internal/loop"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/slots"
)

// Handler turns a request into its reply. It runs on the reactor's loop
// goroutine, one request at a time, or with WithAsync on a goroutine per
// request, concurrently. The request is the text the client sent, up to
// and including its CRLF; without a CRLF, all it sent before it shut
// down its side, or before the request timeout passed (as yoton's
// recv_all, which gives up after 1 s and returns what arrived). Invalid
// UTF-8 is removed as Python's decode(errors="ignore") does. The server
// appends CRLF to the reply unless it ends in one.
type Handler func(request string) string

// DefaultHandler is yoton's RequestServer.handle_request: it answers
// "Requested: " + request. (Python's version also sleeps on "wait" and
// stops the server on "stop", but it compares the whole request, which
// from do_request always ends in CRLF, so neither ever matches a
// do_request; a raw client's "wait" or "stop" without CRLF, ended by
// shutting down its side or by the request timeout, does match in
// Python. This one only answers, whatever the request.) Pure function;
// safe for concurrent use.
func DefaultHandler(request string) string { return "Requested: " + request }

// smallReply is the largest reply written from the loop goroutine: the
// kernel takes that much at once from a fresh socket, so nothing stays
// buffered when the client, as do_request does, has already shut down
// its side. Larger replies are written by a goroutine.
const smallReply = 4 << 10

var crlf = []byte("\r\n")

// RequestServer is yoton's RequestServer: a telnet-like server that takes
// one request per connection and answers it (protocol.md section 10).
//
// It accepts on a goroutine of its own and hands every client socket to
// the reactor's loop, which reads the request and, unless WithAsync was
// given, calls the handler and writes the reply; replies larger than a
// few KiB, and the replies of WithAsync handlers, are written by a
// goroutine per request. All methods are safe for concurrent use; Close
// must not be called from a handler (see Close).
type RequestServer struct {
	r       *reactor.Reactor
	loop    loop.Loop // r's loop operations (timers, logging)
	ln      net.Listener
	handler Handler
	cfg     config

	stopOnce  sync.Once
	stopCh    chan struct{} // closed by Stop
	doneOnce  sync.Once
	done      chan struct{} // closed when stopped and every request is finished
	closeOnce sync.Once

	mu       sync.Mutex
	stopped  bool
	inflight int                   // requests accepted and not finished
	detached map[net.Conn]struct{} // sockets goroutines write to
	handling map[goid.ID]int       // goroutines running a WithAsync handler (Close)

	wg sync.WaitGroup // accept loop, reactor watcher, reply goroutines

	// Loop-owned.
	streams map[*reactor.Stream]*serverConn
	closing bool
}

// NewRequestServer listens at address ("host:port" in any form
// slots.ParseAddress accepts; port 0 lets the system choose, see Addr)
// and serves requests on r with handler (nil means DefaultHandler) until
// Stop or Close, or until r is closed. Safe for concurrent use; it
// returns reactor.ErrClosed when r is closed.
func NewRequestServer(r *reactor.Reactor, address string, handler Handler, opts ...Option) (*RequestServer, error) {
	cfg := config{requestTimeout: DefaultRequestTimeout, maxRequestSize: DefaultMaxRequestSize}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", reactor.ErrBadOption)
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	if handler == nil {
		handler = DefaultHandler
	}
	addr, err := slots.ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if addr.Protocol != "tcp" {
		return nil, fmt.Errorf("%w %q: protocol %q not supported (only tcp)", slots.ErrInvalidAddress, address, addr.Protocol)
	}
	select {
	case <-r.Done():
		return nil, reactor.ErrClosed
	default:
	}
	ln, err := net.Listen(addr.Network(), net.JoinHostPort(addr.Host, strconv.Itoa(addr.Port)))
	if err != nil {
		return nil, fmt.Errorf("yoton: request server at %s: %w", address, err)
	}
	s := &RequestServer{
		r:        r,
		loop:     loop.Of(r),
		ln:       ln,
		handler:  handler,
		cfg:      cfg,
		stopCh:   make(chan struct{}),
		done:     make(chan struct{}),
		detached: make(map[net.Conn]struct{}),
		handling: make(map[goid.ID]int),
		streams:  make(map[*reactor.Stream]*serverConn),
	}
	s.wg.Add(2)
	go s.acceptLoop()
	go s.watchReactor()
	return s, nil
}

// Addr returns the address the server listens at. Safe for concurrent use.
func (s *RequestServer) Addr() net.Addr { return s.ln.Addr() }

// Stop stops accepting clients (yoton's stop); requests already accepted
// are still answered, and Done is closed once they are. Safe for
// concurrent use, also from a handler.
func (s *RequestServer) Stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopped = true
		idle := s.inflight == 0
		s.mu.Unlock()
		close(s.stopCh)
		_ = s.ln.Close()
		if idle {
			s.doneOnce.Do(func() { close(s.done) })
		}
	})
}

// Done returns a channel closed once the server has stopped (Stop, Close
// or the reactor closing) and has finished every request it accepted.
// Safe for concurrent use.
func (s *RequestServer) Done() <-chan struct{} { return s.done }

// Close stops the server, drops the clients whose requests are not
// answered yet, and waits until every goroutine of the server has ended
// (a WithAsync handler that is running is waited for). It is idempotent
// and safe for concurrent use (every call waits). From a WithAsync
// handler it does all that but wait, since it would wait for itself:
// Done is closed once the server has ended. On the loop goroutine (a
// handler without WithAsync) it returns reactor.ErrBlockingCall; use
// Stop there.
func (s *RequestServer) Close() error {
	if s.r.OnLoop() {
		return reactor.ErrBlockingCall
	}
	s.closeOnce.Do(s.shutdown)
	if s.inHandler() {
		return nil
	}
	s.wg.Wait()
	select {
	case <-s.done:
	case <-s.r.Done(): // every stream has had its OnClose
	}
	return nil
}

// inHandler reports whether the caller is a goroutine running a
// WithAsync handler of this server.
func (s *RequestServer) inHandler() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handling[goid.Current()] > 0
}

// shutdown stops the server and drops the clients not answered yet,
// without waiting for its goroutines. Once, for Close.
func (s *RequestServer) shutdown() {
	s.Stop()
	// After this, replies leave the loop no more. If the reactor is
	// closing, it closes every stream itself.
	_ = s.r.Do(context.Background(), func() {
		s.closing = true
		for st, c := range s.streams {
			c.taken = true
			c.cancelTimer()
			st.Close()
		}
	})
	s.mu.Lock()
	for nc := range s.detached {
		_ = nc.Close()
	}
	s.mu.Unlock()
}

// watchReactor stops the server when the reactor closes.
func (s *RequestServer) watchReactor() {
	defer s.wg.Done()
	select {
	case <-s.r.Done():
		s.Stop()
	case <-s.stopCh:
	}
}

func (s *RequestServer) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logf("yoton: request server %s: accept: %v; retrying in %v", s.ln.Addr(), err, backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.stopCh:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		if s.cfg.filter != nil && !s.cfg.filter(nc.RemoteAddr()) {
			s.logf("yoton: request server %s: accept filter turned %s away", s.ln.Addr(), nc.RemoteAddr())
			_ = nc.Close()
			continue
		}
		if !s.begin() {
			_ = nc.Close()
			return
		}
		if _, err := s.r.Adopt(nc, &serverConn{s: s}); err != nil {
			s.end()
			if errors.Is(err, reactor.ErrClosed) {
				s.Stop()
				return
			}
			s.logf("yoton: request server %s: %v", s.ln.Addr(), err)
		}
	}
}

// begin counts an accepted request unless the server is stopped.
func (s *RequestServer) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.inflight++
	return true
}

// end counts a request as finished.
func (s *RequestServer) end() {
	s.mu.Lock()
	s.inflight--
	idle := s.stopped && s.inflight == 0
	s.mu.Unlock()
	if idle {
		s.doneOnce.Do(func() { close(s.done) })
	}
}

// logf sends a diagnostic to the reactor's logger (reactor.WithLogger
// or WithSlog), as a Warn record. Any goroutine.
func (s *RequestServer) logf(format string, args ...any) {
	s.loop.Logf(slog.LevelWarn, format, args...)
}

// handle calls the handler, turning a panic into a log line and ok=false.
func (s *RequestServer) handle(request string) (reply string, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			s.loop.Logf(slog.LevelError, "yoton: request server %s: panic in handler: %v\n%s", s.ln.Addr(), v, debug.Stack())
			ok = false
		}
	}()
	return s.handler(request), true
}

func withCRLF(reply string) []byte {
	if strings.HasSuffix(reply, "\r\n") {
		return []byte(reply)
	}
	return []byte(reply + "\r\n")
}

// replyOffLoop answers on a goroutine over a socket detached from the
// loop: it calls the handler first when handle is set, then writes the
// reply, shuts down writing and closes, as yoton's send_all does. The
// caller has counted the request with begin. Loop goroutine.
func (s *RequestServer) replyOffLoop(nc net.Conn, request string, reply []byte, handle bool) {
	if s.closing {
		_ = nc.Close()
		s.end()
		return
	}
	s.mu.Lock()
	s.detached[nc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer s.end()
		defer func() {
			s.mu.Lock()
			delete(s.detached, nc)
			s.mu.Unlock()
			_ = nc.Close()
		}()
		if handle {
			id := goid.Current()
			s.mu.Lock()
			s.handling[id]++
			s.mu.Unlock()
			text, ok := s.handle(request)
			s.mu.Lock()
			if s.handling[id]--; s.handling[id] == 0 {
				delete(s.handling, id)
			}
			s.mu.Unlock()
			if !ok {
				return
			}
			reply = withCRLF(text)
		}
		if _, err := nc.Write(reply); err != nil {
			return
		}
		if tcp, ok := nc.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
	}()
}

// serverConn is the loop side of one client: it collects the request,
// then answers it. Loop-owned.
type serverConn struct {
	s     *RequestServer
	st    *reactor.Stream
	buf   []byte
	timer *loop.Entry
	taken bool // the request is being answered, or the client dropped
	gone  bool // the socket left the loop (Detach)
}

// OnOpen lists the client and starts its request timeout. The reactor
// calls it on the loop goroutine only.
func (c *serverConn) OnOpen(st *reactor.Stream) {
	c.st = st
	c.s.streams[st] = c
	if c.s.closing {
		c.taken = true
		st.Close()
		return
	}
	c.timer = c.s.loop.AfterFunc(c.s.cfg.requestTimeout, c.expire)
}

// OnData collects the request and answers it once its CRLF is in. The
// reactor calls it on the loop goroutine only.
func (c *serverConn) OnData(st *reactor.Stream, data []byte) {
	if c.taken {
		return
	}
	from := max(len(c.buf)-1, 0)
	c.buf = append(c.buf, data...)
	if i := bytes.Index(c.buf[from:], crlf); i >= 0 {
		c.answer(string(c.buf[:from+i+2]), false)
		return
	}
	if len(c.buf) > c.s.cfg.maxRequestSize {
		c.drop(fmt.Sprintf("request longer than %d bytes", c.s.cfg.maxRequestSize))
	}
}

// OnClose answers a client that shut down its side before its CRLF and
// forgets the client. The reactor calls it on the loop goroutine only.
func (c *serverConn) OnClose(st *reactor.Stream, err error) {
	if !c.taken && errors.Is(err, io.EOF) {
		// The client shut down its side without a CRLF: what it sent is
		// the request (yoton's recv_all ends at end of file too).
		c.answer(string(c.buf), true)
	}
	c.cancelTimer()
	if !c.gone {
		delete(c.s.streams, st)
		c.s.end()
	}
}

// expire answers a client that did not end its request in time with
// what it sent so far, possibly nothing, as yoton's recv_all returns
// what arrived once its second is up.
func (c *serverConn) expire() {
	c.timer = nil
	if !c.taken {
		c.s.logf("yoton: request server %s: no CRLF from %s within %v; answering the %d bytes that arrived",
			c.s.ln.Addr(), c.st.RemoteAddr(), c.s.cfg.requestTimeout, len(c.buf))
		c.answer(string(c.buf), false)
	}
}

func (c *serverConn) drop(why string) {
	c.taken = true
	c.cancelTimer()
	c.s.logf("yoton: request server %s: dropped %s: %s", c.s.ln.Addr(), c.st.RemoteAddr(), why)
	c.st.Close()
}

func (c *serverConn) cancelTimer() {
	if c.timer != nil {
		c.s.loop.CancelTimer(c.timer)
		c.timer = nil
	}
}

// answer handles the request: on the loop and, when the reply is small,
// writes it from here; otherwise on a goroutine. atEOF is set inside
// OnClose, where only Detach can still send much.
func (c *serverConn) answer(raw string, atEOF bool) {
	c.taken = true
	c.cancelTimer()
	c.buf = nil
	request := strings.ToValidUTF8(raw, "")
	if c.s.cfg.async {
		c.detach(request, nil, true)
		return
	}
	text, ok := c.s.handle(request)
	if !ok {
		c.st.Close()
		return
	}
	reply := withCRLF(text)
	if len(reply) <= smallReply && !atEOF {
		if _, err := c.st.Write(reply); err == nil {
			c.st.Close()
			return
		}
	}
	c.detach(request, reply, false)
}

// detach moves the socket to a goroutine that answers the request.
func (c *serverConn) detach(request string, reply []byte, handle bool) {
	nc, err := c.st.Detach()
	if err != nil {
		c.s.logf("yoton: request server %s: %v", c.s.ln.Addr(), err)
		c.st.Close()
		return
	}
	c.gone = true
	delete(c.s.streams, c.st)
	c.s.replyOffLoop(nc, request, reply, handle)
}

var _ reactor.StreamHandler = (*serverConn)(nil)
