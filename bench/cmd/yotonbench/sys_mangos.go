package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.nanomsg.org/mangos/v3"
	"go.nanomsg.org/mangos/v3/protocol/pub"
	"go.nanomsg.org/mangos/v3/protocol/rep"
	"go.nanomsg.org/mangos/v3/protocol/req"
	"go.nanomsg.org/mangos/v3/protocol/sub"
	_ "go.nanomsg.org/mangos/v3/transport/tcp" // registers tcp://
)

// mangos: pure Go nng. Its PUB drops a message for a peer whose write
// queue is full, and its SUB drops the oldest message when the read queue
// is full: both queues are made as long as the run (a.count + slack), so
// that nothing is dropped. Its default receive limit (1 MB) is removed.
// With -defaults (scenario 6) the pub/sub sockets keep mangos' defaults
// (queues of 128, the 1 MB limit).
func init() {
	registerRole(sysMangos, "sub", mangosSub)
	registerRole(sysMangos, "pub", mangosPub)
	registerRole(sysMangos, "rep", mangosRep)
	registerRole(sysMangos, "req", mangosReq)
}

// mangosQueue is the queue length for a run of count messages.
func mangosQueue(count int64) int { return int(min(count+1024, 1<<26)) }

// mangosListen listens on a free port of 127.0.0.1 and returns host:port.
func mangosListen(s mangos.Socket) (string, error) {
	l, err := s.NewListener("tcp://127.0.0.1:0", nil)
	if err != nil {
		return "", err
	}
	if err := l.Listen(); err != nil {
		return "", err
	}
	return strings.TrimPrefix(l.Address(), "tcp://"), nil
}

func mangosSub(a roleArgs, cio *childIO) error {
	c := newCounter(a.count * int64(a.subs))
	pr := newProbes(cio, a.subs, a.sync)
	addrs := make([]string, a.subs)
	for i := range addrs {
		s, err := sub.NewSocket()
		if err != nil {
			return err
		}
		defer s.Close()
		opts := []struct {
			name  string
			value any
		}{
			{mangos.OptionSubscribe, []byte{}},
			{mangos.OptionReadQLen, mangosQueue(a.count)},
			{mangos.OptionMaxRecvSize, 0},
		}
		if a.defaults {
			opts = opts[:1]
		}
		for _, o := range opts {
			if err := s.SetOption(o.name, o.value); err != nil {
				return fmt.Errorf("%s: %w", o.name, err)
			}
		}
		if addrs[i], err = mangosListen(s); err != nil {
			return err
		}
		go func() { // ends when the process does
			for {
				b, err := s.Recv()
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

func mangosPub(a roleArgs, cio *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	s, err := pub.NewSocket()
	if err != nil {
		return err
	}
	defer s.Close()
	if !a.defaults {
		if err := s.SetOption(mangos.OptionWriteQLen, mangosQueue(a.count)); err != nil {
			return err
		}
	}
	for _, addr := range addrs {
		if err := s.Dial("tcp://" + addr); err != nil {
			return err
		}
	}
	if a.sync {
		if err := cio.probeUntilGo(func() error { return s.Send(probeMsg) }); err != nil {
			return err
		}
	}
	payload := makePayload(a.size)
	for i := int64(0); i < a.count; i++ {
		if err := s.Send(payload); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	if err := cio.say(sentWord); err != nil {
		return err
	}
	cio.waitEOF()
	return nil
}

func mangosRep(a roleArgs, cio *childIO) error {
	s, err := rep.NewSocket()
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetOption(mangos.OptionMaxRecvSize, 0); err != nil {
		return err
	}
	addr, err := mangosListen(s)
	if err != nil {
		return err
	}
	if err := cio.say("%s %s", readyWord, addr); err != nil {
		return err
	}
	go func() { // ends when the process does
		for {
			b, err := s.Recv()
			if err != nil {
				return
			}
			if err := s.Send(b); err != nil {
				return
			}
		}
	}()
	cio.waitEOF()
	return nil
}

// mangosReq measures latency on the socket and throughput with
// a.outstanding contexts, one goroutine each (mangos' way of having many
// requests in flight on one REQ socket).
func mangosReq(a roleArgs, cio *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	s, err := req.NewSocket()
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetOption(mangos.OptionMaxRecvSize, 0); err != nil {
		return err
	}
	if err := s.Dial("tcp://" + addrs[0]); err != nil {
		return err
	}
	payload := makePayload(a.size)
	var res result
	switch a.mode {
	case "latency":
		res, err = callLoop(a, true, func() error {
			if err := s.Send(payload); err != nil {
				return err
			}
			b, err := s.Recv()
			if err == nil && len(b) != len(payload) {
				err = errors.New("bad reply")
			}
			return err
		})
	case "throughput":
		res, err = mangosPipeline(a, s, payload)
	default:
		err = fmt.Errorf("unknown -mode %q", a.mode)
	}
	if err != nil {
		return err
	}
	if err := cio.sayJSON(resultWord, res); err != nil {
		return err
	}
	cio.waitEOF()
	return nil
}

func mangosPipeline(a roleArgs, s mangos.Socket, payload []byte) (result, error) {
	var (
		calls   atomic.Int64
		measure atomic.Bool
		stop    atomic.Bool
		wg      sync.WaitGroup
		mu      sync.Mutex
		first   error
	)
	for i := 0; i < a.outstanding; i++ {
		c, err := s.OpenContext()
		if err != nil {
			return result{}, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			for !stop.Load() {
				err := c.Send(payload)
				if err == nil {
					_, err = c.Recv()
				}
				if err != nil {
					mu.Lock()
					first = errors.Join(first, err)
					mu.Unlock()
					return
				}
				if measure.Load() {
					calls.Add(1)
				}
			}
		}()
	}
	time.Sleep(time.Duration(a.warmup * float64(time.Second)))
	measure.Store(true)
	start := time.Now()
	time.Sleep(time.Duration(a.duration * float64(time.Second)))
	n := calls.Load()
	secs := time.Since(start).Seconds()
	stop.Store(true)
	wg.Wait()
	if first != nil {
		return result{}, first
	}
	res := result{Calls: n, Seconds: secs}
	res.CPUUser, res.CPUSys = selfCPU()
	return res, nil
}
