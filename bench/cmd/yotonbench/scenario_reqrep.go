package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// runReqRep runs a replier process (echo) and a requester process: in the
// latency group one call is in flight and every call is timed; in the
// calls and rr-interop groups c.inflight calls are in flight and completed
// calls are counted. The requester warms up first (unmeasured), then
// measures for o.target. The replier always gets -outstanding: Go yoton's
// takes that many requests at once (channels.WithWindow); the others
// ignore it.
func (b *bench) runReqRep(c *cell, rec *record) error {
	dur := b.o.target.Seconds()
	warm := min(0.5, max(0.1, dur/4))
	ctx, cancel := context.WithTimeout(context.Background(), b.o.timeout)
	defer cancel()
	rec.InFlight = c.inflight
	rep, err := start(c.rep.name+" replier", b.command(c.rep, "rep", flags(
		"size", c.size, "outstanding", b.o.outstanding)))
	if err != nil {
		return err
	}
	defer rep.kill()
	addr, err := rep.expect(ctx, readyWord, 60*time.Second)
	if err != nil {
		return err
	}
	mode := "throughput"
	if c.group == grpLatency {
		mode = "latency"
	}
	req, err := start(c.req.name+" requester", b.command(c.req, "req", flags(
		"addr", addr, "size", c.size, "mode", mode, "outstanding", max(c.inflight, 1),
		"duration", dur, "warmup", warm)))
	if err != nil {
		return err
	}
	defer req.kill()
	line, err := req.expect(ctx, resultWord, time.Duration((dur+warm)*float64(time.Second))+2*time.Minute)
	if err != nil {
		return err
	}
	var res result
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return fmt.Errorf("requester result %q: %w", line, err)
	}
	if err := req.finish(30 * time.Second); err != nil {
		return err
	}
	if err := rep.finish(30 * time.Second); err != nil {
		return err
	}
	rec.Calls, rec.Seconds = res.Calls, res.Seconds
	rec.Count = res.Calls
	rec.P50us, rec.P99us, rec.P999us, rec.MeanUs = res.P50us, res.P99us, res.P999us, res.MeanUs
	rec.FastCalls, rec.AllCalls = res.FastCalls, res.AllCalls
	rec.PubCPU, rec.SubCPU = req.cpu().Seconds(), rep.cpu().Seconds()
	if res.Calls == 0 {
		return fmt.Errorf("no call completed in %.1f s", dur)
	}
	return nil
}
