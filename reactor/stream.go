package reactor

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// StreamHandler receives the events of a plain socket the reactor drives
// for someone else (Adopt): a protocol that is not yoton's, such as the
// telnet-like requests of package clientserver. Every method runs on the
// loop goroutine, so it must not block.
type StreamHandler interface {
	// OnOpen is called once, before any other method, when the loop has
	// taken the socket.
	OnOpen(s *Stream)
	// OnData is called with the bytes read from the socket. data belongs
	// to the reactor and is valid only during the call: copy what you
	// keep.
	OnData(s *Stream, data []byte)
	// OnClose is called once when the socket is gone: the peer closed or
	// shut down its side (err wraps io.EOF; gnet cannot keep a socket
	// half open), a socket error (err), Close or the reactor closing
	// (err is nil). During an io.EOF OnClose the socket is still open
	// for writing, but only as much as the kernel takes at once is sent
	// before it closes; Detach still works and is the way to send more.
	// It is not called after Detach.
	OnClose(s *Stream, err error)
}

// Stream is a socket adopted by the reactor. Its methods are loop
// goroutine only, except LocalAddr, RemoteAddr and Reactor.
//
// gnet cannot keep a socket half open: when the peer shuts down its
// writing side (as yoton's do_request does right after its request), the
// socket closes, and output still buffered by the loop may be dropped.
// A protocol whose peers do that should only Write what the kernel takes
// at once (Buffered reports what it did not take), or Detach the socket
// and write on a goroutine.
type Stream struct {
	r             *Reactor
	h             StreamHandler
	local, remote net.Addr
	taken         atomic.Bool // OnOpen ran

	// Loop-owned.
	gc       gnet.Conn // nil once gnet closed the socket
	closing  bool      // Close was called
	detached bool
	inClose  bool // inside OnClose
	ended    bool // OnClose was delivered
}

// Adopt hands the connected socket nc to the loop, which reads it and
// reports to h: a general hook for protocols other than yoton's that
// should live on the same loop as everything else. Adopt takes nc over
// and closes it in every case (the loop works on a duplicate of its file
// descriptor); only TCP and Unix sockets can be adopted. It returns once
// the loop has taken the socket and run h.OnOpen. Safe for concurrent
// use; on the loop goroutine it returns ErrBlockingCall, after Close
// ErrClosed.
func (r *Reactor) Adopt(nc net.Conn, h StreamHandler) (*Stream, error) {
	if r.OnLoop() {
		_ = nc.Close()
		return nil, ErrBlockingCall
	}
	if !r.enter() {
		_ = nc.Close()
		return nil, ErrClosed
	}
	defer r.leave()
	if tcp, ok := nc.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	s := &Stream{r: r, h: h, local: nc.LocalAddr(), remote: nc.RemoteAddr()}
	if _, err := r.client.EnrollContext(nc, s); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("yoton: adopt socket: %w", err)
	}
	// EnrollContext returns after the loop ran OnOpen, or failed to
	// register the socket (and closed it) without calling it.
	if !s.taken.Load() {
		return nil, errors.New("yoton: adopt socket: the event loop did not take it")
	}
	return s, nil
}

// Reactor returns the reactor that drives the stream. Safe for
// concurrent use.
func (s *Stream) Reactor() *Reactor { return s.r }

// LocalAddr returns the socket's local address. Safe for concurrent use.
func (s *Stream) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the peer's address. Safe for concurrent use.
func (s *Stream) RemoteAddr() net.Addr { return s.remote }

// Write hands p to the socket: what the kernel does not take at once is
// buffered by the loop and sent as the peer reads. p stays the caller's.
// It returns ErrClosed after Close, Detach or the end of the socket.
// Loop goroutine only.
func (s *Stream) Write(p []byte) (int, error) {
	if s.gc == nil || s.closing || s.detached {
		return 0, ErrClosed
	}
	return s.gc.Write(p)
}

// Buffered returns how many written bytes the loop still holds because
// the kernel did not take them yet. Loop goroutine only.
func (s *Stream) Buffered() int {
	if s.gc == nil {
		return 0
	}
	return s.gc.OutboundBuffered()
}

// Close sends what Write buffered (waiting up to one second for a slow
// reader, as yoton's close does), shuts down the writing side and closes
// the socket; OnClose follows with a nil error. Bytes that arrive
// meanwhile are dropped. Reactor.Close waits for a Close in progress.
// Calling it again does nothing. Loop goroutine only.
func (s *Stream) Close() {
	if s.gc == nil || s.closing || s.detached {
		return
	}
	s.closing = true
	s.r.lingering++
	s.lingerPoll(time.Now().Add(closeLinger))
}

func (s *Stream) lingerPoll(deadline time.Time) {
	gc := s.gc
	if gc != nil && gc.OutboundBuffered() > 0 && time.Now().Before(deadline) {
		s.r.afterFunc(time.Millisecond, func() { s.lingerPoll(deadline) })
		return
	}
	if gc != nil {
		// The peer reads the reply and then end of file, as from yoton's
		// shutdown-then-close.
		shutdownWrite(gc.Fd())
		_ = gc.Close()
	}
	s.r.lingerEnded()
}

// Detach takes the socket back from the loop as a net.Conn owned by the
// caller, who may then use it from any goroutine with blocking calls;
// the loop lets go of its own copy and the handler hears nothing more
// (no OnClose). It is the way out for work that cannot run on the loop,
// such as a slow request handler. It fails while bytes written with
// Write are still buffered (they could interleave with the caller's),
// and with ErrClosed after Close or the end of the socket (except during
// an io.EOF OnClose). Bytes the peer sends before the loop has let go
// may still be read, and dropped, by the loop. Loop goroutine only.
func (s *Stream) Detach() (net.Conn, error) {
	if s.gc == nil || s.closing || s.detached {
		return nil, ErrClosed
	}
	if n := s.gc.OutboundBuffered(); n > 0 {
		return nil, fmt.Errorf("yoton: detach stream: %d bytes still buffered for writing", n)
	}
	fd, err := s.gc.Dup()
	if err != nil {
		return nil, fmt.Errorf("yoton: detach stream: %w", err)
	}
	f := os.NewFile(uintptr(fd), "yoton-stream")
	nc, err := net.FileConn(f) // duplicates fd again
	_ = f.Close()
	if err != nil {
		return nil, fmt.Errorf("yoton: detach stream: %w", err)
	}
	s.detached = true
	if !s.inClose {
		_ = s.gc.Close() // gnet's copy only: the socket stays open through nc
	}
	return nc, nil
}

// opened runs when gnet has taken the socket. Loop goroutine.
func (s *Stream) opened(gc gnet.Conn) {
	s.gc = gc
	s.taken.Store(true)
	s.h.OnOpen(s)
}

// traffic hands what gnet read to the handler. Loop goroutine.
func (s *Stream) traffic(gc gnet.Conn) {
	buf, _ := gc.Next(-1)
	if len(buf) == 0 || s.closing || s.detached {
		return
	}
	s.h.OnData(s, buf)
}

// socketClosed runs when gnet closed the socket. Loop goroutine.
func (s *Stream) socketClosed(err error) {
	if s.detached || s.ended {
		s.gc = nil
		return
	}
	s.ended = true
	s.inClose = true
	s.h.OnClose(s, err)
	s.inClose = false
	s.gc = nil
}
