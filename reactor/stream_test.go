package reactor

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goyoton/yoton/internal/testkit"
)

// tcpPair returns the two ends of a fresh loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- nc
	}()
	client, err = net.Dial("tcp4", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	server, ok := <-accepted
	require.True(t, ok, "accept failed")
	return server, client
}

// streamRec is a StreamHandler that reports its events on channels and
// can be given behaviour per test. Its methods run on the loop.
type streamRec struct {
	r       *Reactor
	opened  chan *Stream
	closed  chan error
	offLoop bool
	onData  func(s *Stream, data []byte)
	onClose func(s *Stream, err error)
}

func newStreamRec(r *Reactor) *streamRec {
	return &streamRec{r: r, opened: make(chan *Stream, 1), closed: make(chan error, 1)}
}

func (h *streamRec) check() {
	if !h.r.OnLoop() {
		h.offLoop = true
	}
}

func (h *streamRec) OnOpen(s *Stream) { h.check(); h.opened <- s }

func (h *streamRec) OnData(s *Stream, data []byte) {
	h.check()
	if h.onData != nil {
		h.onData(s, data)
	}
}

func (h *streamRec) OnClose(s *Stream, err error) {
	h.check()
	if h.onClose != nil {
		h.onClose(s, err)
	}
	h.closed <- err
}

func readAllTimeout(t *testing.T, nc net.Conn) []byte {
	t.Helper()
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(waitTimeout)))
	b, err := io.ReadAll(nc)
	require.NoError(t, err)
	return b
}

func TestStreamReplyThenClose(t *testing.T) {
	r := newReactor(t)
	server, client := tcpPair(t)
	h := newStreamRec(r)
	var got bytes.Buffer
	h.onData = func(s *Stream, data []byte) {
		got.Write(data)
		if bytes.HasSuffix(got.Bytes(), []byte("\n")) {
			_, err := s.Write(bytes.ToUpper(got.Bytes()))
			assert.NoError(t, err)
			s.Close()
			s.Close() // twice is fine
			_, err = s.Write([]byte("late"))
			assert.ErrorIs(t, err, ErrClosed)
		}
	}
	s, err := r.Adopt(server, h)
	require.NoError(t, err)
	assert.Same(t, s, testkit.Wait(t, h.opened, "OnOpen"), "OnOpen ran before Adopt returned")
	assert.Equal(t, client.LocalAddr().String(), s.RemoteAddr().String())
	assert.Equal(t, client.RemoteAddr().String(), s.LocalAddr().String())
	assert.Same(t, r, s.Reactor())

	_, err = client.Write([]byte("ping\n"))
	require.NoError(t, err)
	assert.Equal(t, "PING\n", string(readAllTimeout(t, client)), "reply, then end of file")
	assert.NoError(t, testkit.Wait(t, h.closed, "OnClose"))
	assert.False(t, h.offLoop)
}

func TestStreamLargeReplyLingers(t *testing.T) {
	r := newReactor(t)
	server, client := tcpPair(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	h := newStreamRec(r)
	h.onData = func(s *Stream, _ []byte) {
		_, err := s.Write(big)
		assert.NoError(t, err)
		s.Close() // must not cut the reply the kernel has not taken yet
	}
	_, err := r.Adopt(server, h)
	require.NoError(t, err)
	_, err = client.Write([]byte("go"))
	require.NoError(t, err)
	got := readAllTimeout(t, client)
	assert.Equal(t, len(big), len(got))
	assert.True(t, bytes.Equal(big, got))
	assert.NoError(t, testkit.Wait(t, h.closed, "OnClose"))
}

func TestStreamWriteOnPeerEOF(t *testing.T) {
	r := newReactor(t)
	server, client := tcpPair(t)
	h := newStreamRec(r)
	var got bytes.Buffer
	h.onData = func(_ *Stream, data []byte) { got.Write(data) }
	h.onClose = func(s *Stream, err error) {
		// gnet closes on end of file, but the socket can still take a
		// last answer during OnClose.
		_, werr := s.Write(append([]byte("got "), got.Bytes()...))
		assert.NoError(t, werr)
	}
	_, err := r.Adopt(server, h)
	require.NoError(t, err)
	_, err = client.Write([]byte("half"))
	require.NoError(t, err)
	require.NoError(t, client.(*net.TCPConn).CloseWrite())
	assert.Equal(t, "got half", string(readAllTimeout(t, client)))
	assert.ErrorIs(t, testkit.Wait(t, h.closed, "OnClose"), io.EOF)
}

func TestStreamDetach(t *testing.T) {
	r := newReactor(t)
	tests := []struct {
		name  string
		onEOF bool // detach during the end-of-file OnClose instead of OnData
	}{
		{name: "from OnData"},
		{name: "from OnClose at end of file", onEOF: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, client := tcpPair(t)
			h := newStreamRec(r)
			detached := make(chan net.Conn, 1)
			detach := func(s *Stream) {
				nc, err := s.Detach()
				if !assert.NoError(t, err) {
					return
				}
				_, err = s.Detach()
				assert.ErrorIs(t, err, ErrClosed, "twice")
				_, err = s.Write([]byte("x"))
				assert.ErrorIs(t, err, ErrClosed, "write after detach")
				detached <- nc
			}
			if tt.onEOF {
				h.onClose = func(s *Stream, _ error) { detach(s) }
			} else {
				h.onData = func(s *Stream, _ []byte) { detach(s) }
			}
			_, err := r.Adopt(server, h)
			require.NoError(t, err)
			_, err = client.Write([]byte("hello"))
			require.NoError(t, err)
			if tt.onEOF {
				require.NoError(t, client.(*net.TCPConn).CloseWrite())
			}
			nc := testkit.Wait(t, detached, "Detach")
			// The detached socket is an ordinary blocking net.Conn.
			_, err = nc.Write([]byte("from a goroutine"))
			require.NoError(t, err)
			require.NoError(t, nc.(*net.TCPConn).CloseWrite())
			require.NoError(t, nc.Close())
			assert.Equal(t, "from a goroutine", string(readAllTimeout(t, client)))
			testkit.Barrier(t, r)
			if !tt.onEOF {
				select {
				case err := <-h.closed:
					t.Errorf("OnClose after Detach: %v", err)
				default:
				}
			}
		})
	}
}

func TestStreamDetachRefusedWithBufferedOutput(t *testing.T) {
	r := newReactor(t)
	server, client := tcpPair(t)
	require.NoError(t, client.(*net.TCPConn).SetReadBuffer(4096))
	h := newStreamRec(r)
	result := make(chan error, 1)
	h.onData = func(s *Stream, _ []byte) {
		_, err := s.Write(make([]byte, 32<<20)) // more than the kernel takes at once
		assert.NoError(t, err)
		_, err = s.Detach()
		result <- err
		s.Close()
	}
	_, err := r.Adopt(server, h)
	require.NoError(t, err)
	_, err = client.Write([]byte("x"))
	require.NoError(t, err)
	err = testkit.Wait(t, result, "Detach")
	assert.Error(t, err)
	assert.False(t, errors.Is(err, ErrClosed))
	_ = client.Close()
	testkit.Wait(t, h.closed, "OnClose")
}

func TestStreamEndsWithReactor(t *testing.T) {
	r, err := New()
	require.NoError(t, err)
	server, client := tcpPair(t)
	h := newStreamRec(r)
	_, err = r.Adopt(server, h)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.NoError(t, testkit.Wait(t, h.closed, "OnClose"))
	assert.Empty(t, readAllTimeout(t, client), "the peer sees end of file")
}

func TestStreamAdoptRefused(t *testing.T) {
	t.Run("closed reactor", func(t *testing.T) {
		r, err := New()
		require.NoError(t, err)
		require.NoError(t, r.Close())
		server, client := tcpPair(t)
		_, err = r.Adopt(server, newStreamRec(r))
		assert.ErrorIs(t, err, ErrClosed)
		assert.Empty(t, readAllTimeout(t, client), "the socket was closed")
	})
	t.Run("on the loop", func(t *testing.T) {
		r := newReactor(t)
		server, client := tcpPair(t)
		var err error
		testkit.Do(t, r, func() { _, err = r.Adopt(server, newStreamRec(r)) })
		assert.ErrorIs(t, err, ErrBlockingCall)
		assert.Empty(t, readAllTimeout(t, client), "the socket was closed")
	})
}
