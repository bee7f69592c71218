package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// runPubSub runs one subscriber process (c.subs sockets) and one
// publisher: the subscriber binds and says READY, the publisher connects
// to every socket, (with -sync: probes until the subscriber saw a probe
// on every socket and the runner says GO), sends c.count messages and
// says SENT; the subscriber says RESULT once everything arrived (or
// nothing arrived for a while). Both then wait for their stdin to close:
// first the publisher's, then, once it has exited, the subscriber's, so
// that neither sees its peer vanish while it is still working.
func (b *bench) runPubSub(c *cell, run int, pilot bool, rec *record) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.timeout)
	defer cancel()
	sync := c.pub.sync || c.sub.sync
	rec.Expected = c.count * int64(c.subs)
	rec.Subs = c.subs

	// A defaults run (not its pilots, which size it with the benchmark's
	// settings) may lose messages: its subscriber gives up after
	// defaultsIdle without one instead of the usual 10 s.
	defaults := c.defaults && !pilot
	idle := "" // the role's default
	if defaults {
		idle = fmt.Sprint(defaultsIdle.Seconds())
	}
	sub, err := start(c.sub.name+" subscriber", b.command(c.sub, "sub", flags(
		"count", c.count, "subs", c.subs, "sync", sync, "recv", b.o.goRecv, "defaults", defaults, "idle", idle,
		"cpuprofile", b.profileFlag(c.sub, c, "sub", run, pilot))))
	if err != nil {
		return err
	}
	defer sub.kill()
	addrs, err := sub.expect(ctx, readyWord, 60*time.Second)
	if err != nil {
		return err
	}
	pub, err := start(c.pub.name+" publisher", b.command(c.pub, "pub", flags(
		"addr", addrs, "size", c.size, "count", c.count, "sync", sync, "defaults", defaults,
		"cpuprofile", b.profileFlag(c.pub, c, "pub", run, pilot))))
	if err != nil {
		return err
	}
	defer pub.kill()
	if sync {
		if _, err := sub.expect(ctx, subscribedWord, 60*time.Second); err != nil {
			return err
		}
		if err := pub.send(goWord); err != nil {
			return pub.failed(err)
		}
	}

	// The subscriber's RESULT comes last. The publisher says SENT and
	// then waits for stdin, so its output ending first is a failure.
	var line string
	for line == "" {
		select {
		case l, ok := <-sub.lines:
			if !ok {
				return sub.failed(fmt.Errorf("%w without a result (%v)", errEarlyExit, sub.cmd.Wait()))
			}
			if rest, found := cutWord(l, resultWord); found {
				line = rest
			}
		case _, ok := <-pub.lines:
			if !ok {
				return pub.failed(fmt.Errorf("%w (%v)", errEarlyExit, pub.cmd.Wait()))
			}
		case <-ctx.Done():
			return sub.failed(ctx.Err())
		}
	}
	var res result
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return fmt.Errorf("subscriber result %q: %w", line, err)
	}
	if err := pub.finish(60 * time.Second); err != nil {
		return err
	}
	if err := sub.finish(60 * time.Second); err != nil {
		return err
	}
	rec.Count, rec.Bytes, rec.Seconds = res.Count, res.Bytes, res.Seconds
	rec.PubCPU, rec.SubCPU = pub.cpu().Seconds(), sub.cpu().Seconds()
	rec.Lost = res.Count != rec.Expected
	return nil
}

// defaultsIdle is how long a defaults run's subscriber waits for another
// message before it reports what arrived.
const defaultsIdle = 3 * time.Second

// cutWord returns rest when l is "word rest".
func cutWord(l, word string) (string, bool) {
	if len(l) > len(word) && l[:len(word)] == word && l[len(word)] == ' ' {
		return l[len(word)+1:], true
	}
	return "", false
}
