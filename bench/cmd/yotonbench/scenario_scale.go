package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// runScale runs one hub process and o.scaleProcs client processes holding
// c.conns connections in all. When the system's hub binds (all of them:
// Go yoton's hub listens with Context.Listen, libzmq's XPUB and raw TCP
// bind one port), the hub starts first and the clients connect to it;
// otherwise the clients bind and the hub connects out to all of them.
// Setup is the time from starting the connecting side until the hub says
// UP (it holds every connection).
// Then o.rounds times: the hub publishes one 64-byte message, and the
// fan-out time is from just before that send to the last client's
// arrival (clocks: CLOCK_REALTIME of one machine).
func (b *bench) runScale(c *cell, rec *record) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.timeout)
	defer cancel()
	procs := min(b.o.scaleProcs, c.conns)
	share := func(i int) int { // connections of client process i
		n := c.conns / procs
		if i < c.conns%procs {
			n++
		}
		return n
	}
	rec.Conns = c.conns
	rec.Expected = int64(c.conns * b.o.rounds)
	setupLimit := b.o.scaleSetup

	var hub *proc
	clients := make([]*proc, procs)
	defer func() {
		for _, p := range clients {
			if p != nil {
				p.kill()
			}
		}
		if hub != nil {
			hub.kill()
		}
	}()
	var err error
	var t0 time.Time
	if c.sys.hubBinds {
		if hub, err = start(c.sys.name+" hub", b.command(c.sys, "hub", flags("nconns", c.conns, "cpuprofile", b.profileFlag(c.sys, c, "hub", rec.Run, false)))); err != nil {
			return err
		}
		addr, err := hub.expect(ctx, readyWord, 60*time.Second)
		if err != nil {
			return err
		}
		t0 = time.Now()
		for i := range clients {
			if clients[i], err = start(fmt.Sprintf("%s clients %d", c.sys.name, i+1),
				b.command(c.sys, "clients", flags("addr", addr, "nconns", share(i)))); err != nil {
				return err
			}
		}
		for _, p := range clients {
			if _, err := p.expect(ctx, connectedWord, setupLimit); err != nil {
				return err
			}
		}
	} else {
		var addrs []string
		for i := range clients {
			if clients[i], err = start(fmt.Sprintf("%s clients %d", c.sys.name, i+1),
				b.command(c.sys, "clients", flags("nconns", share(i)))); err != nil {
				return err
			}
		}
		for _, p := range clients {
			l, err := p.expect(ctx, readyWord, setupLimit)
			if err != nil {
				return err
			}
			addrs = append(addrs, l)
		}
		file := filepath.Join(b.tmp, "addrs")
		if err := os.WriteFile(file, []byte(strings.Join(addrs, ",")), 0o644); err != nil {
			return err
		}
		t0 = time.Now()
		if hub, err = start(c.sys.name+" hub", b.command(c.sys, "hub", flags("addrfile", file, "nconns", c.conns, "cpuprofile", b.profileFlag(c.sys, c, "hub", rec.Run, false)))); err != nil {
			return err
		}
	}
	line, err := waitUp(ctx, hub, t0, setupLimit, c.conns, rec)
	if err != nil {
		return err
	}
	rec.Setup = time.Since(t0).Seconds()
	var up result
	if err := json.Unmarshal([]byte(line), &up); err != nil {
		return fmt.Errorf("hub: %q: %w", line, err)
	}
	if up.Conns != c.conns {
		return fmt.Errorf("hub holds %d connections, want %d", up.Conns, c.conns)
	}
	rec.RSSBefore, rec.RSSAfter = up.RSSBefore, up.RSSAfter

	for round := 1; round <= b.o.rounds; round++ {
		if err := hub.send(fmt.Sprintf("%s %d", sendWord, round)); err != nil {
			return hub.failed(err)
		}
		sent, err := roundTime(ctx, hub, sentWord, round, 60*time.Second)
		if err != nil {
			return err
		}
		var last int64
		complete := true
		for i, p := range clients {
			got, err := roundTime(ctx, p, gotWord, round, 20*time.Second)
			if err != nil { // lost: this client process did not get the round
				complete = false
				continue
			}
			rec.Count += int64(share(i))
			last = max(last, got)
		}
		if !complete {
			rec.Lost = true
			break // the processes may be stuck: do not wait 20 s per round
		}
		rec.RoundsMs = append(rec.RoundsMs, float64(last-sent)/1e6)
	}
	if err := hub.finish(2 * time.Minute); err != nil {
		return err
	}
	for _, p := range clients {
		if err := p.finish(2 * time.Minute); err != nil {
			return err
		}
	}
	return nil
}

// waitUp waits for the hub's UP line and returns the rest. When the hub
// is not up after limit, the run fails with how far it got (from its
// CONNECTING lines), and the memory per connection so far is recorded.
func waitUp(ctx context.Context, hub *proc, t0 time.Time, limit time.Duration, want int, rec *record) (string, error) {
	deadline := time.NewTimer(time.Until(t0.Add(limit)))
	defer deadline.Stop()
	n, mem := 0, int64(0)
	for {
		select {
		case l, ok := <-hub.lines:
			if !ok {
				return "", hub.failed(fmt.Errorf("%w before UP (%v)", errEarlyExit, hub.cmd.Wait()))
			}
			if rest, found := cutWord(l, upWord); found {
				return rest, nil
			}
			if rest, found := cutWord(l, connectingWord); found {
				_, _ = fmt.Sscanf(rest, "%d %d", &n, &mem)
			}
		case <-deadline.C:
			rec.Setup = limit.Seconds()
			return "", fmt.Errorf("setup not done after %v: the hub held %s of %s connections", limit,
				thousands(float64(n)), thousands(float64(want)))
		case <-ctx.Done():
			return "", hub.failed(ctx.Err())
		}
	}
}

// roundTime waits for "word round unixnano" from p and returns unixnano.
func roundTime(ctx context.Context, p *proc, word string, round int, d time.Duration) (int64, error) {
	for {
		l, err := p.expect(ctx, word, d)
		if err != nil {
			return 0, err
		}
		var r int
		var t int64
		if _, err := fmt.Sscanf(l, "%d %d", &r, &t); err != nil {
			return 0, p.failed(fmt.Errorf("bad %s line %q", word, l))
		}
		if r == round {
			return t, nil
		}
	}
}
