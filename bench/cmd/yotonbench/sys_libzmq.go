//go:build libzmq

package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// libzmq through cgo (github.com/pebbe/zmq4): built only with -tags
// libzmq, so that the module builds and tests without libzmq installed.
// The runner builds a tagged copy of itself when it is not one (libzmq.go).
// HWMs are 0 (no limit) on every socket, so nothing is dropped; with
// -defaults (scenario 6) the pub/sub sockets keep libzmq's (1000).
func init() {
	libzmqLinked = true
	registerRole(sysLibzmq, "sub", libzmqSub)
	registerRole(sysLibzmq, "pub", libzmqPub)
	registerRole(sysLibzmq, "rep", libzmqRep)
	registerRole(sysLibzmq, "req", libzmqReq)
	registerRole(sysLibzmq, "hub", libzmqHub)
	registerRole(sysLibzmq, "clients", libzmqClients)
	registerRole(sysLibzmq, "version", func(_ roleArgs, cio *childIO) error {
		major, minor, patch := zmq.Version()
		return cio.say("%d.%d.%d, %s", major, minor, patch, moduleVersion("github.com/pebbe/zmq4"))
	})
}

// libzmqBind binds s on a free port of 127.0.0.1 and returns host:port.
func libzmqBind(s *zmq.Socket) (string, error) {
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		return "", err
	}
	ep, err := s.GetLastEndpoint()
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(ep, "tcp://"), nil
}

// libzmqSocket makes a socket with the benchmark's options, or with
// libzmq's defaults when defaults is set.
func libzmqSocket(t zmq.Type, defaults bool) (*zmq.Socket, error) {
	s, err := zmq.NewSocket(t)
	if err != nil {
		return nil, err
	}
	if defaults {
		return s, nil
	}
	if err := errors.Join(s.SetSndhwm(0), s.SetRcvhwm(0), s.SetMaxmsgsize(-1)); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func libzmqSub(a roleArgs, cio *childIO) error {
	c := newCounter(a.count * int64(a.subs))
	pr := newProbes(cio, a.subs, a.sync)
	addrs := make([]string, a.subs)
	for i := range addrs {
		s, err := libzmqSocket(zmq.SUB, a.defaults)
		if err != nil {
			return err
		}
		if err := s.SetSubscribe(""); err != nil {
			return err
		}
		if addrs[i], err = libzmqBind(s); err != nil {
			return err
		}
		go func() { // one goroutine owns the socket; ends with the process
			for {
				b, err := s.RecvBytes(0)
				if err != nil {
					return
				}
				if pr.isProbe(i, b) {
					continue
				}
				c.add(1, int64(len(b)))
			}
		}()
	}
	if err := cio.say("%s %s", readyWord, strings.Join(addrs, ",")); err != nil {
		return err
	}
	if err := cio.sayJSON(resultWord, c.wait(a.idle)); err != nil {
		return err
	}
	cio.waitEOF()
	return nil
}

func libzmqPub(a roleArgs, cio *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	s, err := libzmqSocket(zmq.PUB, a.defaults)
	if err != nil {
		return err
	}
	for _, addr := range addrs {
		if err := s.Connect("tcp://" + addr); err != nil {
			return err
		}
	}
	if a.sync {
		if err := cio.probeUntilGo(func() error { _, err := s.SendBytes(probeMsg, 0); return err }); err != nil {
			return err
		}
	}
	payload := makePayload(a.size)
	for i := int64(0); i < a.count; i++ {
		if _, err := s.SendBytes(payload, 0); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	// libzmq has no flush: its I/O thread keeps sending while we wait
	// for stdin to close (after the subscriber counted everything).
	if err := cio.say(sentWord); err != nil {
		return err
	}
	cio.waitEOF()
	return nil
}

func libzmqRep(a roleArgs, cio *childIO) error {
	s, err := libzmqSocket(zmq.REP, false)
	if err != nil {
		return err
	}
	addr, err := libzmqBind(s)
	if err != nil {
		return err
	}
	if err := cio.say("%s %s", readyWord, addr); err != nil {
		return err
	}
	go func() { // owns the socket; ends with the process
		for {
			b, err := s.RecvBytes(0)
			if err != nil {
				return
			}
			if _, err := s.SendBytes(b, 0); err != nil {
				return
			}
		}
	}()
	cio.waitEOF()
	return nil
}

// libzmqReq uses REQ for latency (one call in flight is all REQ allows)
// and DEALER, which may have many, for throughput.
func libzmqReq(a roleArgs, cio *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	payload := makePayload(a.size)
	var res result
	switch a.mode {
	case "latency":
		s, err := libzmqSocket(zmq.REQ, false)
		if err != nil {
			return err
		}
		if err := s.Connect("tcp://" + addrs[0]); err != nil {
			return err
		}
		res, err = callLoop(a, true, func() error {
			if _, err := s.SendBytes(payload, 0); err != nil {
				return err
			}
			b, err := s.RecvBytes(0)
			if err == nil && len(b) != len(payload) {
				err = errors.New("bad reply")
			}
			return err
		})
		if err != nil {
			return err
		}
	case "throughput":
		s, err := libzmqSocket(zmq.DEALER, false)
		if err != nil {
			return err
		}
		if err := s.Connect("tcp://" + addrs[0]); err != nil {
			return err
		}
		res, err = pipeline(a,
			func() error { _, err := s.SendMessage("", payload); return err },
			func() error {
				m, err := s.RecvMessageBytes(0)
				if err == nil && (len(m) != 2 || len(m[1]) != len(payload)) {
					err = errors.New("bad reply")
				}
				return err
			})
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown -mode %q", a.mode)
	}
	if err := cio.sayJSON(resultWord, res); err != nil {
		return err
	}
	cio.waitEOF()
	return nil
}

// libzmqHub binds one XPUB socket (verbose, so that it sees every
// subscription) and is UP once a.conns subscribers subscribed.
func libzmqHub(a roleArgs, cio *childIO) error {
	s, err := libzmqSocket(zmq.XPUB, false)
	if err != nil {
		return err
	}
	if err := errors.Join(s.SetXpubVerbose(1), s.SetBacklog(4096)); err != nil {
		return err
	}
	addr, err := libzmqBind(s)
	if err != nil {
		return err
	}
	before := settledRSS()
	if err := cio.say("%s %s", readyWord, addr); err != nil {
		return err
	}
	start := time.Now()
	for n := 0; n < a.conns; {
		b, err := s.RecvBytes(0)
		if err != nil {
			return err
		}
		if len(b) > 0 && b[0] == 1 {
			n++
		}
	}
	setup := time.Since(start).Seconds()
	after := settledRSS()
	if err := cio.sayJSON(upWord, result{Conns: a.conns, RSSBefore: before, RSSAfter: after, Setup: setup}); err != nil {
		return err
	}
	return hubRounds(cio, func(_ uint64, payload []byte) error {
		_, err := s.SendBytes(payload, 0)
		return err
	})
}

// libzmqClients connects a.conns SUB sockets to the hub and polls all of
// them from one goroutine.
func libzmqClients(a roleArgs, cio *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	if err := zmq.SetMaxSockets(a.conns + 64); err != nil {
		return err
	}
	g := newGotRounds(cio, a.conns)
	poller := zmq.NewPoller()
	for i := 0; i < a.conns; i++ {
		s, err := libzmqSocket(zmq.SUB, false)
		if err != nil {
			return fmt.Errorf("socket %d: %w", i, err)
		}
		if err := errors.Join(s.SetSubscribe(""), s.Connect("tcp://"+addrs[0])); err != nil {
			return err
		}
		poller.Add(s, zmq.POLLIN)
	}
	if err := cio.say(connectedWord); err != nil {
		return err
	}
	go func() { // ends with the process
		for {
			ready, err := poller.Poll(-1)
			if err != nil {
				return
			}
			for _, p := range ready {
				for {
					b, err := p.Socket.RecvBytes(zmq.DONTWAIT)
					if err != nil {
						break
					}
					g.got(b)
				}
			}
		}
	}()
	cio.waitEOF()
	return nil
}
