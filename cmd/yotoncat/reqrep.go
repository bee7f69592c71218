package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/futures"
	"github.com/goyoton/yoton/wire"
)

// kwFlag collects repeated -kw key=value flags.
type kwFlag struct {
	keys   []string
	values channels.Kwargs
}

func (k *kwFlag) String() string { return strings.Join(k.keys, ",") }

func (k *kwFlag) Set(s string) error {
	key, value, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("want key=value, not %q", s)
	}
	if k.values == nil {
		k.values = channels.Kwargs{}
	}
	k.keys = append(k.keys, key)
	k.values[key] = parseArg(value)
	return nil
}

func runCall(ctx context.Context, e *env) (err error) {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	var f netFlags
	f.register(fs)
	var kw kwFlag
	fs.Var(&kw, "kw", "keyword argument key=value (value parsed as an argument; repeatable)")
	asJSON := fs.Bool("json", false, "print the reply as JSON instead of Python repr")
	timeout := fs.Duration("timeout", 30*time.Second, "the longest to wait for the reply")
	if err := parse(fs, e); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: call needs a METHOD", errUsage)
	}
	method := fs.Arg(0)
	args := []any{}
	for _, a := range fs.Args()[1:] {
		args = append(args, parseArg(a))
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	n, err := newNode()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, n.close()) }()
	req, err := channels.NewReqChannel(n.x, f.slot)
	if err != nil {
		return err
	}
	if err := n.join(ctx, &f, e); err != nil {
		return err
	}
	fut, err := req.Call(method, args, kw.values)
	if err != nil {
		return err
	}
	reply, err := fut.ResultOrCancel(ctx)
	if err != nil {
		var re *futures.RemoteError
		if errors.As(err, &re) {
			return fmt.Errorf("remote error: %s", re.Message)
		}
		return fmt.Errorf("call %s: %w", method, err)
	}
	if *asJSON {
		_, err = fmt.Fprintf(e.stdout, "%s\n", toJSON(reply))
	} else {
		_, err = fmt.Fprintln(e.stdout, wire.Repr(reply))
	}
	return err
}

func runServe(ctx context.Context, e *env) (err error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f netFlags
	f.register(fs)
	echo := fs.Bool("echo", false, "serve METHOD returning its arguments (a tuple; (args, kwargs) with keyword arguments)")
	command := fs.String("exec", "", "serve METHOD running this command (split on spaces) with the call's arguments appended; the reply is its stdout")
	method := fs.String("method", "", `the method served (default "echo" with -echo, "exec" with -exec)`)
	workers := fs.Int("workers", 4, "how many calls are handled at once")
	if err := parse(fs, e); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	if *echo == (*command != "") {
		return fmt.Errorf("%w: serve needs one of -echo and -exec", errUsage)
	}
	if *workers < 1 {
		return fmt.Errorf("%w: -workers must be at least 1", errUsage)
	}
	var h channels.Handler
	name := "echo"
	if *echo {
		h = echoHandler
	} else {
		argv := strings.Fields(*command)
		if len(argv) == 0 {
			return fmt.Errorf("%w: -exec is blank", errUsage)
		}
		name = "exec"
		h = execHandler(ctx, argv)
	}
	if *method != "" {
		name = *method
	}
	n, err := newNode()
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, n.close()) }()
	rep, err := channels.NewRepChannel(n.x, f.slot, channels.WithWorkers(*workers))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, rep.Shutdown(sctx))
	}()
	rep.Handle(name, h)
	if err := rep.SetMode(channels.RepWorkers); err != nil {
		return err
	}
	if err := n.join(ctx, &f, e); err != nil {
		return err
	}
	e.logf("serving %s() at slot %s", name, f.slot)
	select {
	case <-ctx.Done():
	case <-n.closed():
		e.logf("connection closed: %s", n.conn.CloseReason())
	}
	return nil
}

// echoHandler returns its arguments: a tuple of the positional ones, or
// (args, kwargs) when keyword arguments came.
func echoHandler(args []any, kwargs *wire.Dict) (any, error) {
	if kwargs.Len() == 0 {
		return wire.Tuple(args), nil
	}
	return wire.Tuple{wire.Tuple(args), kwargs}, nil
}

// execHandler runs argv with the call's arguments appended (strings as
// they are, other values as their Python repr) and returns its stdout;
// a failure returns its stderr in the error.
func execHandler(ctx context.Context, argv []string) channels.Handler {
	return func(args []any, kwargs *wire.Dict) (any, error) {
		if kwargs.Len() > 0 {
			return nil, errors.New("exec takes no keyword arguments")
		}
		cmdArgs := append([]string(nil), argv[1:]...)
		for _, a := range args {
			s, ok := a.(string)
			if !ok {
				s = wire.Repr(a)
			}
			cmdArgs = append(cmdArgs, s)
		}
		cmd := exec.CommandContext(ctx, argv[0], cmdArgs...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: %w: %s", argv[0], err, strings.TrimSpace(stderr.String()))
		}
		return stdout.String(), nil
	}
}
