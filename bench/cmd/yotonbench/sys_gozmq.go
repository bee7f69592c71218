package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-zeromq/zmq4"
)

// go-zeromq: pure Go ZeroMQ. Its PUB queue is unbounded while the HWM
// option is 0 (the default) and its SUB reader blocks instead of dropping.
func init() {
	registerRole(sysGozmq, "sub", gozmqSub)
	registerRole(sysGozmq, "pub", gozmqPub)
	registerRole(sysGozmq, "rep", gozmqRep)
	registerRole(sysGozmq, "req", gozmqReq)
}

func gozmqSub(a roleArgs, cio *childIO) error {
	ctx := context.Background()
	c := newCounter(a.count * int64(a.subs))
	pr := newProbes(cio, a.subs, a.sync)
	addrs := make([]string, a.subs)
	for i := range addrs {
		s := zmq4.NewSub(ctx)
		defer s.Close()
		if err := s.SetOption(zmq4.OptionSubscribe, ""); err != nil {
			return err
		}
		if err := s.Listen("tcp://127.0.0.1:0"); err != nil {
			return err
		}
		addrs[i] = s.Addr().String()
		go func() { // ends when the process does
			for {
				m, err := s.Recv()
				if err != nil {
					return
				}
				b := m.Bytes()
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

func gozmqPub(a roleArgs, cio *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	s := zmq4.NewPub(context.Background())
	defer s.Close()
	for _, addr := range addrs {
		if err := s.Dial("tcp://" + addr); err != nil {
			return err
		}
	}
	if a.sync {
		if err := cio.probeUntilGo(func() error { return s.Send(zmq4.NewMsg(probeMsg)) }); err != nil {
			return err
		}
	}
	payload := makePayload(a.size)
	for i := int64(0); i < a.count; i++ {
		if err := s.Send(zmq4.NewMsg(payload)); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	if err := cio.say(sentWord); err != nil {
		return err
	}
	cio.waitEOF()
	return nil
}

func gozmqRep(a roleArgs, cio *childIO) error {
	s := zmq4.NewRep(context.Background())
	defer s.Close()
	if err := s.Listen("tcp://127.0.0.1:0"); err != nil {
		return err
	}
	if err := cio.say("%s %s", readyWord, s.Addr()); err != nil {
		return err
	}
	go func() { // ends when the process does
		for {
			m, err := s.Recv()
			if err != nil {
				return
			}
			if err := s.Send(m); err != nil {
				return
			}
		}
	}()
	cio.waitEOF()
	return nil
}

// gozmqReq uses a REQ socket for latency (one call in flight is all REQ
// allows) and a DEALER, which may have many, for throughput.
func gozmqReq(a roleArgs, cio *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	ctx := context.Background()
	payload := makePayload(a.size)
	check := func(m zmq4.Msg, err error) error {
		if err != nil {
			return err
		}
		if len(m.Frames) == 0 || len(m.Frames[len(m.Frames)-1]) != len(payload) {
			return errors.New("bad reply")
		}
		return nil
	}
	var res result
	switch a.mode {
	case "latency":
		s := zmq4.NewReq(ctx)
		defer s.Close()
		if err := s.Dial("tcp://" + addrs[0]); err != nil {
			return err
		}
		res, err = callLoop(a, true, func() error {
			if err := s.Send(zmq4.NewMsg(payload)); err != nil {
				return err
			}
			return check(s.Recv())
		})
	case "throughput":
		s := zmq4.NewDealer(ctx)
		defer s.Close()
		if err := s.Dial("tcp://" + addrs[0]); err != nil {
			return err
		}
		res, err = pipeline(a,
			func() error { return s.Send(zmq4.NewMsgFrom([]byte{}, payload)) },
			func() error { return check(s.Recv()) })
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
