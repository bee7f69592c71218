package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/clientserver"
)

func runState(ctx context.Context, e *env) error {
	_, f, typ, o, err := readerFlags(e, "state", "state")
	if err != nil {
		return err
	}
	switch typ {
	case "json":
		return watch(ctx, e, f, jsonKind, o)
	case "object":
		return watch(ctx, e, f, objectKind, o)
	}
	return watch(ctx, e, f, textKind, o)
}

// watch prints the state when there is one, then every change. The
// state a peer resends when we join arrives as a change.
func watch[T any](ctx context.Context, e *env, f *netFlags, k kind[T], o subOptions) (err error) {
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
	st, err := channels.NewStateChannel(n.x, f.slot, k.mt)
	if err != nil {
		return err
	}
	printed, last := 0, ""
	show := func(m T) error {
		s := k.text(m)
		if printed > 0 && s == last {
			return nil // resent, not changed
		}
		printed, last = printed+1, s
		now := time.Now().Format(time.RFC3339Nano)
		if o.json {
			_, err := fmt.Fprintf(e.stdout, `{"time":%q,"slot":%s,"message":%s}`+"\n", now, appendString(nil, f.slot), k.asJSON(m))
			return err
		}
		_, err := fmt.Fprintf(e.stdout, "%s %s\n", now, k.text(m))
		return err
	}
	// Received is emitted (on the loop) after every batch of arrived
	// states, so a wake-up always follows the newest state: unlike a
	// loop over Next, which misses a change that lands between two of
	// its calls, this never ends on a stale state.
	changed := make(chan struct{}, 1)
	id := st.Received.Bind(func(*channels.StateChannel[T]) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer st.Received.Unbind(id)
	if err := n.join(ctx, f, e); err != nil {
		return err
	}
	select { // print the state we may already have
	case changed <- struct{}{}:
	default:
	}
	for o.count == 0 || printed < o.count {
		select {
		case <-changed:
		case <-n.closed():
			e.logf("connection closed: %s", n.conn.CloseReason())
			return shortOf(printed, o.count)
		case <-ctx.Done():
			return shortOf(printed, o.count)
		}
		if m, ok := st.Recv(); ok {
			if err := show(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// shortOf reports falling short of a -count.
func shortOf(got, want int) error {
	if want > 0 && got < want {
		return fmt.Errorf("saw %d of %d", got, want)
	}
	return nil
}
func runRequest(ctx context.Context, e *env) error {
	fs := flag.NewFlagSet("request", flag.ContinueOnError)
	addr := fs.String("addr", "", "address of the request server (HOST:PORT, or yoton's localhost:NAME)")
	timeout := fs.Duration("timeout", 5*time.Second, "the longest to wait for the reply")
	if err := parse(fs, e); err != nil {
		return err
	}
	if *addr == "" {
		return fmt.Errorf("%w: -addr is required", errUsage)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: request takes one TEXT argument", errUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	reply, err := clientserver.DoRequest(ctx, *addr, fs.Arg(0))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, strings.TrimSuffix(reply, "\r\n"))
	return err
}
