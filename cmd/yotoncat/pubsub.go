package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/wire"
)

// kind is one -type: its message type and how messages are read from the
// command line and printed.
type kind[T any] struct {
	mt     channels.MessageType[T]
	parse  func(string) (T, error) // a command-line message
	text   func(T) string          // for plain output
	asJSON func(T) []byte          // for -json output
}

var (
	textKind = kind[string]{
		mt:     channels.Text,
		parse:  func(s string) (string, error) { return s, nil },
		text:   func(s string) string { return s },
		asJSON: func(s string) []byte { return appendString(nil, s) },
	}
	jsonKind = kind[json.RawMessage]{
		mt: channels.JSON[json.RawMessage](),
		parse: func(s string) (json.RawMessage, error) {
			if !json.Valid([]byte(s)) {
				return nil, fmt.Errorf("not JSON: %q", s)
			}
			return json.RawMessage(s), nil
		},
		text:   func(m json.RawMessage) string { return string(m) },
		asJSON: func(m json.RawMessage) []byte { return m },
	}
	objectKind = kind[any]{
		mt:     channels.Object,
		parse:  fromJSON,
		text:   wire.Repr,
		asJSON: toJSON,
	}
)

func checkType(typ string) error {
	switch typ {
	case "text", "json", "object":
		return nil
	}
	return fmt.Errorf("%w: -type must be text, json or object, not %q", errUsage, typ)
}

func runPub(ctx context.Context, e *env) error {
	fs := flag.NewFlagSet("pub", flag.ContinueOnError)
	var f netFlags
	f.register(fs)
	typ := fs.String("type", "text", "message type: text, json or object (messages given as JSON)")
	if err := parse(fs, e); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := checkType(*typ); err != nil {
		return err
	}
	switch *typ {
	case "json":
		return publish(ctx, e, &f, jsonKind, fs.Args())
	case "object":
		return publish(ctx, e, &f, objectKind, fs.Args())
	}
	return publish(ctx, e, &f, textKind, fs.Args())
}

// publish sends msgs, or the lines of stdin when there are none.
func publish[T any](ctx context.Context, e *env, f *netFlags, k kind[T], msgs []string) (err error) {
	// Parse the arguments first: a bad one sends nothing.
	var values []T
	for _, m := range msgs {
		v, err := k.parse(m)
		if err != nil {
			return err
		}
		values = append(values, v)
	}
	n, err := newNode()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, n.close()) }()
	pub, err := channels.NewPubChannel(n.x, f.slot, k.mt)
	if err != nil {
		return err
	}
	if err := n.join(ctx, f, e); err != nil {
		return err
	}
	count := 0
	send := func(v T) error {
		if err := pub.Send(ctx, v); err != nil {
			return err
		}
		count++
		return nil
	}
	if len(msgs) > 0 {
		for _, v := range values {
			if err := send(v); err != nil {
				return err
			}
		}
	} else {
		sc := bufio.NewScanner(e.stdin)
		sc.Buffer(make([]byte, 64*1024), 64<<20)
		for sc.Scan() {
			if ctx.Err() != nil {
				break
			}
			v, err := k.parse(sc.Text())
			if err != nil {
				return err
			}
			if err := send(v); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	// Hand everything to the kernel before closing.
	if err := n.x.Flush(ctx); err != nil {
		return err
	}
	e.logf("published %d message(s) at %s", count, pub.SlotOutgoing())
	return nil
}

// readerFlags parses the flags sub and state share (the network flags,
// -type, -json, -count, -timeout); what names what they print ("message",
// "state").
func readerFlags(e *env, name, what string) (*flag.FlagSet, *netFlags, string, subOptions, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	f := &netFlags{}
	f.register(fs)
	typ := fs.String("type", "text", "message type: text, json or object")
	var o subOptions
	fs.BoolVar(&o.json, "json", false, `print one JSON object per `+what+`: {"time", "slot", "message"}`)
	fs.IntVar(&o.count, "count", 0, "stop after printing this many "+what+"s (0: no limit)")
	fs.DurationVar(&o.timeout, "timeout", 0, "stop after this long (0: no limit)")
	if err := parse(fs, e); err != nil {
		return nil, nil, "", o, err
	}
	if err := f.check(); err != nil {
		return nil, nil, "", o, err
	}
	if err := checkType(*typ); err != nil {
		return nil, nil, "", o, err
	}
	return fs, f, *typ, o, nil
}

func runSub(ctx context.Context, e *env) error {
	fs, f, typ, o, err := readerFlags(e, "sub", "message")
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: sub takes no arguments", errUsage)
	}
	switch typ {
	case "json":
		return subscribe(ctx, e, f, jsonKind, o)
	case "object":
		return subscribe(ctx, e, f, objectKind, o)
	}
	return subscribe(ctx, e, f, textKind, o)
}

type subOptions struct {
	json    bool
	count   int
	timeout time.Duration
}

// subscribe prints messages until count, timeout, ctx or the connection
// ends. Falling short of count is an error; the other ends are not.
func subscribe[T any](ctx context.Context, e *env, f *netFlags, k kind[T], o subOptions) (err error) {
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	n, err := newNode()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, n.close()) }()
	sub, err := channels.NewSubChannel(n.x, f.slot, k.mt)
	if err != nil {
		return err
	}
	if err := n.join(ctx, f, e); err != nil {
		if o.timeout > 0 && errors.Is(err, context.DeadlineExceeded) && o.count == 0 {
			return nil
		}
		return err
	}
	// Recv waits until ctx ends or the connection closes; queued
	// messages are read before either counts.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() {
		defer close(done)
		select {
		case <-n.closed():
			cancel()
		case <-rctx.Done():
		}
	}()
	got := 0
	for o.count == 0 || got < o.count {
		m, err := sub.TryRecv()
		if errors.Is(err, channels.ErrNoMessage) {
			if rctx.Err() != nil {
				break // the end came and nothing is left queued
			}
			m, err = sub.Recv(rctx)
			if err != nil && rctx.Err() != nil {
				continue // look at the queue once more: the end may have come with a last message
			}
		}
		if err != nil {
			if errors.Is(err, channels.ErrDecode) {
				e.logf("%v", err)
				continue
			}
			return err
		}
		got++
		now := time.Now().Format(time.RFC3339Nano)
		if o.json {
			line := fmt.Appendf(nil, `{"time":%q,"slot":%s,"message":`, now, appendString(nil, f.slot))
			line = append(line, k.asJSON(m)...)
			line = append(line, "}\n"...)
			if _, err := e.stdout.Write(line); err != nil {
				return err
			}
		} else if _, err := fmt.Fprintf(e.stdout, "%s %s\n", now, k.text(m)); err != nil {
			return err
		}
	}
	if o.count > 0 && got < o.count {
		return fmt.Errorf("got %d of %d messages", got, o.count)
	}
	return nil
}
