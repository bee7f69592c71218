package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Raw TCP: the ceiling for one connection. Every message is an 8-byte
// little-endian length and the payload; writes go through a 64 KiB
// bufio.Writer flushed at the end (pub/sub) or when no request is left to
// read (req/rep). Two subscribers: "tcp" skips payloads, "tcpalloc"
// allocates one buffer per message and reads into it, which is what any
// library that hands messages to its user must at least do.
const tcpBuffer = 64 << 10

func init() {
	registerRole(sysTCP, "sub", tcpSub(false))
	registerRole(sysTCP, "pub", tcpPub)
	registerRole(sysTCPAlloc, "sub", tcpSub(true))
	registerRole(sysTCPAlloc, "pub", tcpPub)
	registerRole(sysTCPAlloc, "rep", tcpRep)
	registerRole(sysTCPAlloc, "req", tcpReq)
	registerRole(sysTCPAlloc, "hub", tcpHub)
	registerRole(sysTCPAlloc, "clients", tcpClients)
}

// sink keeps allocated payloads reachable so the allocation is not
// optimised away.
var sink []byte

// readFrame reads one message: into a new buffer when alloc, otherwise it
// skips the payload and returns nil with its length.
func readFrame(r *bufio.Reader, alloc bool) ([]byte, int, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, 0, err
	}
	n := int(binary.LittleEndian.Uint64(h[:]))
	if !alloc {
		_, err := r.Discard(n)
		return nil, n, err
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, n, err
}

func writeFrame(w *bufio.Writer, p []byte) error {
	var h [8]byte
	binary.LittleEndian.PutUint64(h[:], uint64(len(p)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

// listenAll listens on n ports of 127.0.0.1 and returns the listeners and
// their addresses.
func listenAll(n int) ([]net.Listener, []string, error) {
	ls := make([]net.Listener, n)
	addrs := make([]string, n)
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		ls[i], addrs[i] = l, l.Addr().String()
	}
	return ls, addrs, nil
}

func tcpSub(alloc bool) roleFunc {
	return func(a roleArgs, io *childIO) error {
		ls, addrs, err := listenAll(a.subs)
		if err != nil {
			return err
		}
		if err := io.say("%s %s", readyWord, strings.Join(addrs, ",")); err != nil {
			return err
		}
		c := newCounter(a.count * int64(a.subs))
		for _, l := range ls {
			go func() {
				conn, err := l.Accept()
				l.Close()
				if err != nil {
					return
				}
				r := bufio.NewReaderSize(conn, tcpBuffer)
				for {
					b, n, err := readFrame(r, alloc)
					if err != nil {
						return
					}
					if alloc {
						sink = b
					}
					c.add(1, int64(n))
				}
			}()
		}
		res := c.wait(a.idle)
		if err := io.sayJSON(resultWord, res); err != nil {
			return err
		}
		io.waitEOF()
		return nil
	}
}

func tcpPub(a roleArgs, io *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	ws := make([]*bufio.Writer, len(addrs))
	for i, addr := range addrs {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		ws[i] = bufio.NewWriterSize(conn, tcpBuffer)
	}
	payload := makePayload(a.size)
	for i := int64(0); i < a.count; i++ {
		for _, w := range ws {
			if err := writeFrame(w, payload); err != nil {
				return err
			}
		}
	}
	for _, w := range ws {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if err := io.say(sentWord); err != nil {
		return err
	}
	io.waitEOF()
	return nil
}

// tcpRep echoes every message of one connection, flushing when no
// further request is buffered.
func tcpRep(a roleArgs, io *childIO) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if err := io.say("%s %s", readyWord, l.Addr()); err != nil {
		return err
	}
	go func() {
		conn, err := l.Accept()
		l.Close()
		if err != nil {
			return
		}
		r, w := bufio.NewReaderSize(conn, tcpBuffer), bufio.NewWriterSize(conn, tcpBuffer)
		for {
			b, _, err := readFrame(r, true)
			if err != nil {
				return
			}
			if err := writeFrame(w, b); err != nil {
				return
			}
			if r.Buffered() == 0 {
				if err := w.Flush(); err != nil {
					return
				}
			}
		}
	}()
	io.waitEOF()
	return nil
}

func tcpReq(a roleArgs, io *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	conn, err := net.Dial("tcp", addrs[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	r, w := bufio.NewReaderSize(conn, tcpBuffer), bufio.NewWriterSize(conn, tcpBuffer)
	payload := makePayload(a.size)
	recv := func() error {
		b, _, err := readFrame(r, true)
		if err == nil && len(b) != len(payload) {
			err = fmt.Errorf("reply of %d bytes", len(b))
		}
		return err
	}
	var res result
	switch a.mode {
	case "latency":
		res, err = callLoop(a, true, func() error {
			if err := writeFrame(w, payload); err != nil {
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
			return recv()
		})
	case "throughput":
		res, err = pipeline(a, func() error {
			if err := writeFrame(w, payload); err != nil {
				return err
			}
			if r.Buffered() == 0 { // about to wait: send what we have
				return w.Flush()
			}
			return nil
		}, recv)
	default:
		err = fmt.Errorf("unknown -mode %q", a.mode)
	}
	if err != nil {
		return err
	}
	if err := io.sayJSON(resultWord, res); err != nil {
		return err
	}
	io.waitEOF()
	return nil
}

// tcpHub accepts a.conns connections on one port, then writes each round
// to every connection in turn from one goroutine (no goroutine per
// connection).
func tcpHub(a roleArgs, io *childIO) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	before := settledRSS()
	if err := io.say("%s %s", readyWord, l.Addr()); err != nil {
		return err
	}
	conns := make([]net.Conn, 0, a.conns)
	var start time.Time
	for len(conns) < a.conns {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		if start.IsZero() {
			start = time.Now()
		}
		conns = append(conns, c)
	}
	setup := time.Since(start).Seconds()
	after := settledRSS()
	if err := io.sayJSON(upWord, result{Conns: len(conns), RSSBefore: before, RSSAfter: after, Setup: setup}); err != nil {
		return err
	}
	var frame []byte
	return hubRounds(io, func(_ uint64, payload []byte) error {
		frame = binary.LittleEndian.AppendUint64(frame[:0], uint64(len(payload)))
		frame = append(frame, payload...)
		for _, c := range conns {
			if _, err := c.Write(frame); err != nil {
				return err
			}
		}
		return nil
	})
}

// tcpClients opens a.conns connections to the hub, one reading goroutine
// each, and says GOT when all of them received a round.
func tcpClients(a roleArgs, io *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	g := newGotRounds(io, a.conns)
	if err := parallel(a.conns, 16, func(int) error {
		conn, err := net.Dial("tcp", addrs[0])
		if err != nil {
			return err
		}
		go func() { // ends when the hub closes the connection
			r := bufio.NewReaderSize(conn, 4096)
			for {
				b, _, err := readFrame(r, true)
				if err != nil {
					return
				}
				g.got(b)
			}
		}()
		return nil
	}); err != nil {
		return err
	}
	if err := io.say(connectedWord); err != nil {
		return err
	}
	io.waitEOF()
	return nil
}
