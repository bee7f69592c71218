package main

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/reactor"
	"github.com/goyoton/yoton/wire"
)

// Go yoton req/rep (scenario 3): a RepChannel whose "echo" returns its
// argument (as python/reqrep.py's does) on one process, a ReqChannel on
// the other. The payload is an a.size-character string, as Python sends.
// The replier takes up to -outstanding requests at once
// (channels.WithWindow); the requester reports how many of its calls took
// the Go-to-Go fast path (ReqChannel.FastCalls).
func init() {
	registerRole(sysGoyoton, "rep", goyotonRep)
	registerRole(sysGoyoton, "req", goyotonReq)
}

func goyotonRep(a roleArgs, cio *childIO) error {
	r, err := reactor.New()
	if err != nil {
		return err
	}
	defer r.Close()
	x, err := r.NewContext(reactor.WithQueue(goQueueSize, goQueueRule))
	if err != nil {
		return err
	}
	rep, err := channels.NewRepChannel(x, benchRRSlot, channels.WithWindow(max(a.outstanding, 1)))
	if err != nil {
		return err
	}
	rep.Handle("echo", func(args []any, _ *wire.Dict) (any, error) {
		if len(args) != 1 {
			return nil, errors.New("echo takes one argument")
		}
		return args[0], nil
	})
	// Handlers run on the loop (yoton's event mode): echo never blocks.
	if err := rep.SetMode(channels.RepEvent); err != nil {
		return err
	}
	conn, err := x.Bind("127.0.0.1:0", 1, "")
	if err != nil {
		return err
	}
	host, port := conn.LocalAddr()
	if err := cio.say("%s %s", readyWord, net.JoinHostPort(host, strconv.Itoa(port))); err != nil {
		return err
	}
	cio.waitEOF()
	return nil
}

func goyotonReq(a roleArgs, cio *childIO) error {
	addrs, err := a.addrList()
	if err != nil {
		return err
	}
	r, err := reactor.New()
	if err != nil {
		return err
	}
	defer r.Close()
	x, err := r.NewContext(reactor.WithQueue(goQueueSize, goQueueRule))
	if err != nil {
		return err
	}
	req, err := channels.NewReqChannel(x, benchRRSlot)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := x.Connect(ctx, addrs[0], ""); err != nil {
		return err
	}
	payload := strings.Repeat("x", a.size)
	args := []any{payload}
	var made int64 // calls made, warm-up included (one goroutine makes them)
	call := func() error {
		made++
		f, err := req.Call("echo", args, nil)
		if err != nil {
			return err
		}
		v, err := f.Result(ctx)
		if err != nil {
			return err
		}
		if s, ok := v.(string); !ok || len(s) != len(payload) {
			return errors.New("bad reply")
		}
		return nil
	}
	var res result
	switch a.mode {
	case "latency":
		ctx, cancel = context.WithTimeout(context.Background(), time.Duration(a.duration*float64(time.Second))+time.Minute)
		defer cancel()
		res, err = callLoop(a, true, call)
	case "throughput":
		ctx, cancel = context.WithTimeout(context.Background(), time.Duration(a.duration*float64(time.Second))+time.Minute)
		defer cancel()
		replies := make(chan error, a.outstanding+1)
		send := func() error {
			made++
			f, err := req.Call("echo", args, nil)
			if err != nil {
				return err
			}
			f.AddDoneCallback(func(f *futures.Future[any]) {
				_, err := f.Result(ctx)
				select { // never block the loop, even after the run ended
				case replies <- err:
				default:
				}
			})
			return nil
		}
		// pipeline sends the next call after each reply itself.
		res, err = pipeline(a, send, func() error { return <-replies })
	default:
		return errors.New("unknown req mode " + a.mode)
	}
	if err != nil {
		return err
	}
	res.AllCalls, res.FastCalls = made, req.FastCalls()
	if err := cio.sayJSON(resultWord, res); err != nil {
		return err
	}
	cio.waitEOF()
	return nil
}
