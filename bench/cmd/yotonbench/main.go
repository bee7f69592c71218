// Command yotonbench compares this library (Go yoton) with Python yoton,
// libzmq, go-zeromq, mangos and raw TCP, in one run on one machine:
// pub/sub throughput at several sizes, fan-out, req/rep latency and
// throughput, a hub holding thousands of connections on one loop, and Go ↔
// Python interop. It prints markdown tables, writes them with plots to
// RESULTS.md, and writes every run to results.json.
//
//	cd bench && go run -tags libzmq ./cmd/yotonbench   # full run, about 10 minutes
//	cd bench && go run ./cmd/yotonbench -quick          # under 2 minutes
//	go run ./cmd/yotonbench -compare old.json,new.json
//	go run ./cmd/yotonbench -from results.json -readme ../README.md  # re-render, no measuring
//
// Every process of a run is a child: this executable started again in a
// role mode (-role system.role), a copy of it built with -tags libzmq for
// the libzmq roles, or python/*.py for Python yoton. See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Scenario groups: the -scenarios names.
const (
	scPubSub  = "pubsub"  // 1: 1 → 1 at each size
	scFanout  = "fanout"  // 2: 1 → 8
	scReqRep  = "reqrep"  // 3: latency and calls/s
	scScale   = "scale"   // 4: a hub with thousands of connections
	scInterop = "interop" // 5: Go yoton ↔ Python yoton: pub/sub, and req/rep (shown under 3)
	// 6: pub/sub at -defaults-size with each library's default settings
	// (queues, high-water marks): how many messages each loses.
	scDefaults = "defaults"
)

var allScenarios = []string{scPubSub, scFanout, scReqRep, scScale, scInterop, scDefaults}

type options struct {
	runs         int
	sizes        []int
	counts       []int64 // fixed pub/sub counts, one per size; nil means calibrate
	target       time.Duration
	systems      []string
	scenarios    []string
	fanoutSubs   int
	fanoutSize   int
	fanoutCount  int64 // fixed; 0 means calibrate
	defaultsSize int   // scenario 6: payload size
	rrSize       int
	outstanding  int
	conns        []int
	scaleProcs   int
	rounds       int
	scaleSetup   time.Duration
	goRecv       string
	require      bool
	python       string
	pythonPath   string
	out          string
	jsonOut      string
	readme       string // file whose generated benchmark summary to rewrite
	profileDir   string
	timeout      time.Duration
	note         string
	quick        bool
}

// run parses args and runs a role (a child process), a comparison, or the
// runner. It returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("yotonbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ra roleArgs
	roleFlags(fs, &ra)
	var o options
	var sizes, counts, systems, scenarios, conns, fanoutSize, rrSize, defaultsSize, compare, from string
	fs.IntVar(&o.runs, "runs", 3, "runs per figure; each figure is their median")
	fs.StringVar(&sizes, "sizes", "64,1KiB,64KiB,1MiB", "pub/sub and interop payload sizes (bytes, or with a KiB/MiB suffix)")
	fs.StringVar(&counts, "counts", "", "pub/sub messages per run, one per size, for every system (default: calibrate to -target)")
	fs.DurationVar(&o.target, "target", 2*time.Second, "calibrated runs (and req/rep runs) aim to take this long")
	fs.StringVar(&systems, "systems", strings.Join(systemOrder, ","), "systems to measure")
	fs.StringVar(&scenarios, "scenarios", strings.Join(allScenarios, ","), "scenarios to run")
	fs.IntVar(&o.fanoutSubs, "fanout-subs", 8, "fan-out: subscribers")
	fs.StringVar(&fanoutSize, "fanout-size", "1KiB", "fan-out: payload size")
	fs.Int64Var(&o.fanoutCount, "fanout-count", 0, "fan-out: messages per run (default: calibrate)")
	fs.StringVar(&rrSize, "rr-size", "64", "req/rep: payload size")
	fs.StringVar(&defaultsSize, "defaults-size", "64", "defaults scenario: payload size of its pub/sub runs (each library's default queues)")
	fs.IntVar(&ra.outstanding, "outstanding", 64, "req/rep: calls in flight for calls/s; Go yoton replier: requests taken at once (channels.WithWindow)")
	fs.StringVar(&conns, "conns", "1000,10000", "scale: connections held by the hub")
	fs.IntVar(&o.scaleProcs, "scale-procs", 4, "scale: client processes")
	fs.DurationVar(&o.scaleSetup, "scale-setup", 2*time.Minute, "scale: give up on a hub that does not hold every connection after this long")
	fs.IntVar(&o.rounds, "rounds", 5, "scale: messages fanned out per run (each figure: median round, then median run)")
	fs.StringVar(&o.goRecv, "go-recv", recvCallback, "Go yoton subscriber: callback (Received + RecvAll on the loop) or goroutine (Recv loop)")
	fs.BoolVar(&o.require, "require", os.Getenv("CI") == "true", "fail when a selected system cannot run (default: skip it with a message; true when CI=true)")
	fs.StringVar(&o.python, "python", "python3", "Python interpreter")
	fs.StringVar(&o.pythonPath, "pythonpath", "", "directory holding yoton/ (default: $YOTON_PYTHONPATH, else the scripts/fetch-pyzo.sh cache)")
	fs.StringVar(&o.out, "out", "RESULTS.md", "write the markdown report here, and the plots next to it (\"\" for none)")
	fs.StringVar(&o.jsonOut, "json", "results.json", "write every run as JSON here (\"\" for none; with -from only when given: the rows and settings recomputed, -note applied)")
	fs.StringVar(&o.readme, "readme", "", "also rewrite the generated benchmark summary in this file (../README.md), between its yotonbench markers")
	fs.StringVar(&o.profileDir, "profile", "", "write CPU profiles of the Go child processes (pub/sub) into this directory")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "limit for one run")
	fs.StringVar(&o.note, "note", "", "a line about the conditions of this run, for the report (with -from: replaces the file's note)")
	fs.BoolVar(&o.quick, "quick", false, "quick run (under 2 minutes): 1 run per figure, 0.25 s target, 1,000 connections, 3 rounds")
	fs.StringVar(&compare, "compare", "", "a.json,b.json: compare two results files and exit")
	fs.StringVar(&from, "from", "", "results.json: write the report and plots (-out, and -readme) from an earlier run instead of measuring")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if ra.role != "" {
		if err := runRole(ra, stdin, stdout); err != nil {
			fmt.Fprintf(stderr, "yotonbench %s: %v\n", ra.role, err)
			return 1
		}
		return 0
	}
	if compare != "" {
		if err := compareFiles(compare, stdout); err != nil {
			fmt.Fprintln(stderr, "yotonbench:", err)
			return 1
		}
		return 0
	}
	o.outstanding = ra.outstanding
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if from != "" {
		var note *string
		if set["note"] {
			note = &o.note
		}
		jsonOut := "" // -from writes results.json only when told to (-json)
		if set["json"] {
			jsonOut = o.jsonOut
		}
		if err := rewrite(from, o.out, o.readme, jsonOut, note, stdout); err != nil {
			fmt.Fprintln(stderr, "yotonbench:", err)
			return 1
		}
		return 0
	}
	if o.quick {
		if !set["runs"] {
			o.runs = 1
		}
		if !set["target"] {
			o.target = 250 * time.Millisecond
		}
		if !set["conns"] {
			conns = "1000"
		}
		if !set["rounds"] {
			o.rounds = 3
		}
	}
	err := parseOptions(&o, sizes, counts, systems, scenarios, conns, fanoutSize, rrSize, defaultsSize)
	if err != nil {
		fmt.Fprintln(stderr, "yotonbench:", err)
		return 2
	}
	if o.readme != "" {
		if err := checkReadme(o.readme); err != nil {
			fmt.Fprintln(stderr, "yotonbench:", err)
			return 2
		}
	}
	if err := runner(o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "yotonbench:", err)
		return 1
	}
	return 0
}

func parseOptions(o *options, sizes, counts, systems, scenarios, conns, fanoutSize, rrSize, defaultsSize string) error {
	var err error
	if o.runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	if o.sizes, err = parseSizes(sizes); err != nil {
		return err
	}
	if counts != "" {
		if o.counts, err = parseCounts(counts, len(o.sizes)); err != nil {
			return err
		}
	}
	var one []int
	if one, err = parseSizes(fanoutSize); err != nil || len(one) != 1 {
		return fmt.Errorf("bad -fanout-size %q", fanoutSize)
	}
	o.fanoutSize = one[0]
	if one, err = parseSizes(rrSize); err != nil || len(one) != 1 {
		return fmt.Errorf("bad -rr-size %q", rrSize)
	}
	o.rrSize = one[0]
	if one, err = parseSizes(defaultsSize); err != nil || len(one) != 1 {
		return fmt.Errorf("bad -defaults-size %q", defaultsSize)
	}
	o.defaultsSize = one[0]
	if o.conns, err = parseSizes(conns); err != nil {
		return fmt.Errorf("bad -conns: %w", err)
	}
	for _, s := range splitList(systems) {
		if systemsByKey[s] == nil {
			return fmt.Errorf("unknown system %q in -systems (have %s)", s, strings.Join(systemOrder, ","))
		}
		o.systems = append(o.systems, s)
	}
	for _, s := range splitList(scenarios) {
		known := false
		for _, k := range allScenarios {
			known = known || k == s
		}
		if !known {
			return fmt.Errorf("unknown scenario %q in -scenarios (have %s)", s, strings.Join(allScenarios, ","))
		}
		o.scenarios = append(o.scenarios, s)
	}
	if o.fanoutSubs < 1 || o.scaleProcs < 1 || o.rounds < 1 || o.outstanding < 1 {
		return errors.New("-fanout-subs, -scale-procs, -rounds and -outstanding must be at least 1")
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		mul := 1
		switch {
		case strings.HasSuffix(f, "MiB"):
			f, mul = strings.TrimSuffix(f, "MiB"), 1<<20
		case strings.HasSuffix(f, "KiB"):
			f, mul = strings.TrimSuffix(f, "KiB"), 1<<10
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		out = append(out, n*mul)
	}
	if len(out) == 0 {
		return nil, errors.New("no size given")
	}
	return out, nil
}

func parseCounts(s string, want int) ([]int64, error) {
	fields := splitList(s)
	if len(fields) != want {
		return nil, fmt.Errorf("-counts has %d values, -sizes has %d", len(fields), want)
	}
	out := make([]int64, len(fields))
	for i, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad count %q in -counts", f)
		}
		out[i] = n
	}
	return out, nil
}

// humanSize writes a size as "64 B", "4 KiB" or "1 MiB".
func humanSize(size int) string {
	switch {
	case size%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", size>>20)
	case size%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", size>>10)
	}
	return fmt.Sprintf("%d B", size)
}

// sizeLabel is humanSize for file names ("64B", "1MiB").
func sizeLabel(size int) string { return strings.ReplaceAll(humanSize(size), " ", "") }
