package main

import (
	"fmt"
	"slices"
	"time"
)

// Record groups: one table section each (report.go).
const (
	grpPubSub  = "pubsub"
	grpFanout  = "fanout"
	grpLatency = "latency" // req/rep, one call in flight
	grpCalls   = "calls"   // req/rep, -outstanding calls in flight
	grpScale   = "scale"
	grpInterop = "interop"
	// req/rep between Go yoton and Python yoton: calls/s with one call and
	// with -outstanding calls in flight (planned with scenario 5, shown
	// under table 3).
	grpRRInterop = "rr-interop"
	// pub/sub with each library's default queues and limits: messages
	// sent and received (runs that lose some count: losing is the
	// figure).
	grpDefaults = "defaults"
)

// scenario is one figure per system: its cells are measured turn by turn,
// run by run, so that a noisy moment on the machine does not hit one
// system only.
type scenario struct {
	group string
	name  string
	cells []*cell
}

// cell is one system (or, for interop, a pair of systems) in a scenario.
type cell struct {
	group, scenario, name string
	size                  int
	subs                  int     // pub/sub: subscriber sockets
	conns                 int     // scale: connections of the hub
	pub, sub              *system // pub/sub roles (different systems for interop)
	req, rep              *system // req/rep roles (different systems for interop)
	inflight              int     // req/rep: calls the requester keeps in flight
	sys                   *system // scale
	pending               string  // not available yet: why
	count                 int64   // pub/sub: messages per run (per subscriber)
	defaults              bool    // pub/sub: the library's defaults (-defaults), not the benchmark's settings
	failed                bool    // a run failed: no further runs
}

// plan lists the scenarios to run, in the order of the report.
func (b *bench) plan() []*scenario {
	var plan []*scenario
	want := func(s string) bool { return slices.Contains(b.o.scenarios, s) }
	pubsubCells := func(group, name string, size, subs int) *scenario {
		sc := &scenario{group: group, name: name}
		for _, s := range b.systems {
			if s.supports(kindPubSub) {
				sc.cells = append(sc.cells, &cell{group: group, scenario: name, name: s.name, size: size, subs: subs, pub: s, sub: s})
			}
		}
		return sc
	}
	if want(scPubSub) {
		for _, size := range b.o.sizes {
			plan = append(plan, pubsubCells(grpPubSub, "pub/sub "+humanSize(size), size, 1))
		}
	}
	if want(scFanout) {
		name := fmt.Sprintf("fan-out 1→%d, %s", b.o.fanoutSubs, humanSize(b.o.fanoutSize))
		plan = append(plan, pubsubCells(grpFanout, name, b.o.fanoutSize, b.o.fanoutSubs))
	}
	if want(scReqRep) {
		for _, g := range []struct {
			group, name string
			inflight    int
		}{
			{grpLatency, fmt.Sprintf("req/rep %s, 1 in flight", humanSize(b.o.rrSize)), 1},
			{grpCalls, fmt.Sprintf("req/rep %s, %d in flight", humanSize(b.o.rrSize), b.o.outstanding), b.o.outstanding},
		} {
			sc := &scenario{group: g.group, name: g.name}
			for _, s := range b.systems {
				c := &cell{group: g.group, scenario: g.name, name: s.name, size: b.o.rrSize,
					req: s, rep: s, inflight: g.inflight}
				if why := s.pending[kindReqRep]; why != "" {
					c.pending = why
				} else if !s.supports(kindReqRep) {
					continue
				}
				sc.cells = append(sc.cells, c)
			}
			plan = append(plan, sc)
		}
	}
	if want(scScale) {
		for _, n := range b.o.conns {
			name := fmt.Sprintf("hub with %s connections", thousands(float64(n)))
			sc := &scenario{group: grpScale, name: name}
			for _, s := range b.systems {
				if s.supports(kindScale) {
					sc.cells = append(sc.cells, &cell{group: grpScale, scenario: name, name: s.name, size: 64, conns: n, sys: s})
				}
			}
			plan = append(plan, sc)
		}
	}
	goy, py := b.system(sysGoyoton), b.system(sysPython)
	if want(scInterop) && goy != nil && py != nil {
		for _, size := range b.o.sizes {
			name := "interop " + humanSize(size)
			plan = append(plan, &scenario{group: grpInterop, name: name, cells: []*cell{
				{group: grpInterop, scenario: name, name: "Go yoton → Python yoton", size: size, subs: 1, pub: goy, sub: py},
				{group: grpInterop, scenario: name, name: "Python yoton → Go yoton", size: size, subs: 1, pub: py, sub: goy},
			}})
		}
		// Req/rep across the two: calls/s with one call and with
		// -outstanding calls in flight (the requester's throughput mode).
		for _, n := range []int{1, b.o.outstanding} {
			name := fmt.Sprintf("req/rep interop %s, %d in flight", humanSize(b.o.rrSize), n)
			sc := &scenario{group: grpRRInterop, name: name}
			for _, pair := range []struct{ req, rep *system }{{goy, py}, {py, goy}} {
				if pair.req.pending[kindReqRep] != "" || pair.rep.pending[kindReqRep] != "" ||
					!pair.req.hasRole("req") || !pair.rep.hasRole("rep") {
					continue
				}
				sc.cells = append(sc.cells, &cell{group: grpRRInterop, scenario: name,
					name: pair.req.name + " → " + pair.rep.name, size: b.o.rrSize, req: pair.req, rep: pair.rep, inflight: n})
			}
			plan = append(plan, sc)
			if n == b.o.outstanding { // -outstanding 1: one scenario
				break
			}
		}
	}
	if want(scDefaults) {
		// After scenario 1, so that each cell can reuse the count its
		// system was calibrated to at that size.
		name := fmt.Sprintf("pub/sub %s, library defaults", humanSize(b.o.defaultsSize))
		sc := &scenario{group: grpDefaults, name: name}
		for _, s := range b.systems {
			if s.supports(kindPubSub) && s.defaults != "" {
				sc.cells = append(sc.cells, &cell{group: grpDefaults, scenario: name, name: s.name,
					size: b.o.defaultsSize, subs: 1, pub: s, sub: s, defaults: true})
			}
		}
		plan = append(plan, sc)
	}
	var out []*scenario
	for _, sc := range plan {
		if len(sc.cells) > 0 {
			out = append(out, sc)
		}
	}
	return out
}

// runScenario sizes the pub/sub runs, then measures every cell o.runs
// times, turn by turn.
func (b *bench) runScenario(sc *scenario) {
	for _, c := range sc.cells {
		if c.pending != "" {
			b.rep.Records = append(b.rep.Records, record{
				Group: c.group, Scenario: c.scenario, System: c.name, Size: c.size, Pending: c.pending,
			})
			fmt.Fprintf(b.stderr, "yotonbench %-24s %-22s %s\n", c.scenario, c.name, c.pending)
			continue
		}
		if c.pub != nil {
			if err := b.sizeRuns(c); err != nil {
				c.failed = true
				b.rep.Records = append(b.rep.Records, record{
					Group: c.group, Scenario: c.scenario, System: c.name, Size: c.size, Pilot: true,
					Error: "calibration: " + err.Error(),
				})
				fmt.Fprintf(b.stderr, "yotonbench %-24s %-22s FAILED: %s\n", c.scenario, c.name, firstLine(err.Error()))
				b.step += b.o.runs
			}
		}
	}
	for i := 1; i <= b.o.runs; i++ {
		for _, c := range sc.cells {
			if c.pending != "" {
				continue
			}
			if c.failed {
				continue
			}
			rec := b.measure(c, i, false)
			if rec.Error != "" {
				c.failed = true
				b.step += b.o.runs - i // the runs left are not made
			}
			b.progress(rec)
			b.rep.Records = append(b.rep.Records, rec)
		}
	}
}

// measure makes one run of a cell.
func (b *bench) measure(c *cell, run int, pilot bool) record {
	rec := record{Group: c.group, Scenario: c.scenario, System: c.name, Size: c.size, Run: run, Pilot: pilot}
	start := time.Now()
	var err error
	switch c.group {
	case grpPubSub, grpFanout, grpInterop, grpDefaults:
		err = b.runPubSub(c, run, pilot, &rec)
	case grpLatency, grpCalls, grpRRInterop:
		err = b.runReqRep(c, &rec)
	case grpScale:
		err = b.runScale(c, &rec)
	}
	rec.Wall = time.Since(start).Seconds()
	if err != nil {
		rec.Error = err.Error()
	}
	rec.derive()
	return rec
}

// sizeRuns sets c.count: the fixed count when one was given, otherwise
// from pilot runs (recorded, not averaged) the count that should take
// about o.target from the first to the last message. A defaults cell
// takes the count its system was sized to in scenario 1 at that size when
// there is one; its pilot runs use the benchmark's settings (they must
// not lose anything).
func (b *bench) sizeRuns(c *cell) error {
	defer func() {
		if c.group == grpPubSub && c.count > 0 {
			b.sized[sizedKey{c.name, c.size}] = c.count
		}
	}()
	switch {
	case c.group == grpFanout && b.o.fanoutCount > 0:
		c.count = b.o.fanoutCount
		return nil
	case c.group == grpDefaults && b.sized[sizedKey{c.name, c.size}] > 0:
		c.count = b.sized[sizedKey{c.name, c.size}]
		return nil
	case c.group != grpFanout && b.o.counts != nil && slices.Contains(b.o.sizes, c.size):
		c.count = b.o.counts[slices.Index(b.o.sizes, c.size)]
		return nil
	}
	n := min(c.pub.startSmall, c.sub.startSmall)
	if c.size >= 64<<10 {
		n = min(c.pub.startLarge, c.sub.startLarge)
	}
	n = max(n/int64(c.subs), 10)
	target := b.o.target.Seconds()
	for pilot := 1; ; pilot++ {
		c.count = n
		rec := b.measure(c, pilot, true)
		b.progress(rec)
		b.rep.Records = append(b.rep.Records, rec)
		if rec.Error != "" {
			return fmt.Errorf("%s", rec.Error)
		}
		if rec.Lost {
			return fmt.Errorf("pilot of %d messages lost %d", rec.Expected, rec.Expected-rec.Count)
		}
		secs := rec.Seconds
		if secs >= target/8 || pilot == 3 {
			if secs <= 0 {
				c.count = n
				return nil
			}
			c.count = max(int64(float64(n)/secs*target), 10)
			return nil
		}
		// Too short to trust: grow towards half the target.
		grow := int64(20)
		if secs > 0 {
			grow = min(grow, max(2, int64(target/2/secs)))
		}
		n *= grow
	}
}
