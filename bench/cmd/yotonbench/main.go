// Command yotonbench measures yoton pub/sub throughput over loopback TCP
// between two processes, for the Go implementation and for Python yoton
// side by side, and writes a markdown table (RESULTS.md) and every run
// (results.json).
//
//	cd bench && go run ./cmd/yotonbench            # full run, ~1-3 s per run
//	cd bench && go run ./cmd/yotonbench -quick     # smoke run
//
// For Go→Go the runner starts its own executable twice in a role mode
// (-role sub, -role pub); for Python→Python it starts python/pubsub.py
// twice. See README.md for what each column means.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	runs          int
	sizes         []int
	counts        []int64 // fixed count per size; nil means calibrate
	target        time.Duration
	systems       []string
	goRecv        string
	requirePython bool
	python        string
	pythonPath    string
	out           string
	jsonOut       string
	profileDir    string
	timeout       time.Duration
	note          string
}

// run parses args and runs either a role (a child process) or the runner.
// It returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("yotonbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ra roleArgs
	roleFlags(fs, &ra)
	var o options
	var sizes, counts, systems string
	var quick bool
	fs.IntVar(&o.runs, "runs", 3, "runs per figure; each figure is their median")
	fs.StringVar(&sizes, "sizes", "64,1MiB", "payload sizes (bytes, or with a KiB/MiB suffix)")
	fs.StringVar(&counts, "counts", "", "messages per run, one per size, for every system (default: calibrate to -target)")
	fs.DurationVar(&o.target, "target", 2*time.Second, "calibrated runs aim to take this long (first to last message)")
	fs.StringVar(&systems, "systems", "go,python", "systems to measure: go, python")
	fs.StringVar(&o.goRecv, "go-recv", recvCallback, "Go subscriber: callback (Received + RecvAll on the loop) or goroutine (Recv loop)")
	fs.BoolVar(&o.requirePython, "require-python", false, "fail when Python yoton is missing (default: skip its rows)")
	fs.StringVar(&o.python, "python", "python3", "Python interpreter")
	fs.StringVar(&o.pythonPath, "pythonpath", "", "directory holding yoton/ (default: $YOTON_PYTHONPATH, else the scripts/fetch-pyzo.sh cache)")
	fs.StringVar(&o.out, "out", "RESULTS.md", "write the markdown report here (\"\" for none)")
	fs.StringVar(&o.jsonOut, "json", "results.json", "write every run as JSON here (\"\" for none)")
	fs.StringVar(&o.profileDir, "profile", "", "write CPU profiles of the Go role processes into this directory")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "limit for one run")
	fs.StringVar(&o.note, "note", "", "a line about the conditions of this run, for the report")
	fs.BoolVar(&quick, "quick", false, "smoke run: 1 run per figure, 0.25 s target")
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
	if quick {
		o.runs, o.target = 1, 250*time.Millisecond
	}
	var err error
	if o.sizes, err = parseSizes(sizes); err != nil {
		fmt.Fprintln(stderr, "yotonbench:", err)
		return 2
	}
	if counts != "" {
		if o.counts, err = parseCounts(counts, len(o.sizes)); err != nil {
			fmt.Fprintln(stderr, "yotonbench:", err)
			return 2
		}
	}
	o.systems = strings.Split(systems, ",")
	if err := runner(o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "yotonbench:", err)
		return 1
	}
	return 0
}

// system is one implementation under test.
type system struct {
	key, name string
	pair      pair
	// start is the first calibration count per size class (small, large).
	startSmall, startLarge int64
}

func runner(o options, stdout, stderr io.Writer) error {
	if o.runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	var systems []system
	var py *pyEnv
	for _, s := range o.systems {
		switch strings.TrimSpace(s) {
		case "go":
			gp, err := goPair(o)
			if err != nil {
				return err
			}
			systems = append(systems, system{key: "go", name: "Go→Go", pair: gp, startSmall: 20000, startLarge: 50})
		case "python":
			var err error
			py, err = findPython(o.python, o.pythonPath)
			if err != nil {
				if o.requirePython {
					return err
				}
				fmt.Fprintf(stderr, "yotonbench: %v; skipping the Python rows\n", err)
				continue
			}
			defer py.close()
			systems = append(systems, system{key: "python", name: "Python→Python", pair: py.pair(), startSmall: 2000, startLarge: 50})
		default:
			return fmt.Errorf("unknown system %q in -systems", s)
		}
	}
	if len(systems) == 0 {
		return errors.New("no system to measure")
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}

	rep := report{Machine: describeMachine(py), Runs: o.runs, GoRecv: o.goRecv, Note: o.note}
	for si, size := range o.sizes {
		sc := scenarioName(size)
		counts := map[string]int64{}
		for _, s := range systems {
			if o.counts != nil {
				counts[s.key] = o.counts[si]
				continue
			}
			n, err := calibrate(o, s, size, &rep, stderr)
			if err != nil {
				return fmt.Errorf("%s %s: calibration: %w", s.name, sc, err)
			}
			counts[s.key] = n
		}
		// Interleave the systems run by run, so that a noisy moment on the
		// machine does not fall on one system only.
		for i := 1; i <= o.runs; i++ {
			for _, s := range systems {
				rec, err := measure(o, s, size, counts[s.key], i, false)
				if err != nil {
					return fmt.Errorf("%s %s run %d: %w", s.name, sc, i, err)
				}
				progress(stderr, rec, o.runs)
				rep.Records = append(rep.Records, rec)
			}
		}
	}
	rep.summarize(systems)
	table := rep.markdown()
	fmt.Fprint(stdout, table)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(table), 0o644); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		if err := rep.writeJSON(o.jsonOut); err != nil {
			return err
		}
	}
	return nil
}

// calibrate runs pilot runs (recorded, not averaged) and returns the
// count that should take about o.target from first to last message.
func calibrate(o options, s system, size int, rep *report, stderr io.Writer) (int64, error) {
	n := s.startSmall
	if size >= 64<<10 {
		n = s.startLarge
	}
	target := o.target.Seconds()
	for pilot := 1; ; pilot++ {
		rec, err := measure(o, s, size, n, pilot, true)
		if err != nil {
			return 0, err
		}
		progress(stderr, rec, 0)
		rep.Records = append(rep.Records, rec)
		if rec.Lost {
			return 0, fmt.Errorf("pilot of %d messages lost %d", n, rec.Expected-rec.Count)
		}
		secs := rec.Seconds
		if secs >= target/8 || pilot == 3 {
			if secs <= 0 {
				return n, nil
			}
			return max(int64(float64(rec.Count)/secs*target), 10), nil
		}
		// Too short to trust: grow towards half the target.
		grow := int64(20)
		if secs > 0 {
			grow = min(grow, max(2, int64(target/2/secs)))
		}
		n *= grow
	}
}

// measure runs one pair and records it.
func measure(o options, s system, size int, count int64, i int, pilot bool) (record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	p := s.pair
	if s.key == "go" && o.profileDir != "" && !pilot {
		p = profiledPair(p, o.profileDir, size, i)
	}
	out, err := runPair(ctx, p, size, count)
	if err != nil {
		return record{}, err
	}
	rec := record{
		System:   s.name,
		Scenario: scenarioName(size),
		Size:     size,
		Run:      i,
		Pilot:    pilot,
		Expected: count,
		Count:    out.res.Count,
		Bytes:    out.res.Bytes,
		Seconds:  out.res.Seconds,
		SubUser:  out.res.CPUUser,
		SubSys:   out.res.CPUSys,
		PubCPU:   out.pubCPU.Seconds(),
		SubCPU:   out.subCPU.Seconds(),
		Wall:     out.elapsed.Seconds(),
		Lost:     out.res.Count != count,
	}
	rec.derive()
	return rec, nil
}

func progress(w io.Writer, r record, runs int) {
	what := fmt.Sprintf("run %d/%d", r.Run, runs)
	if r.Pilot {
		what = fmt.Sprintf("calibration %d", r.Run)
	}
	status := ""
	if r.Lost {
		status = fmt.Sprintf(" LOST %d of %d", r.Expected-r.Count, r.Expected)
	}
	fmt.Fprintf(w, "yotonbench: %-13s %-12s %-14s %9d msgs %8.3f s %12.0f msgs/s %9.1f MB/s%s\n",
		r.System, r.Scenario, what, r.Count, r.Seconds, r.MsgsPerSec, r.MBPerSec, status)
}

// goPair starts this executable in its role mode.
func goPair(o options) (pair, error) {
	exe, err := os.Executable()
	if err != nil {
		return pair{}, err
	}
	cmd := func(args ...string) *exec.Cmd {
		c := exec.Command(exe, args...)
		c.Env = append(os.Environ(), childEnv+"=1")
		return c
	}
	return pair{
		sub: func(count int64) *exec.Cmd {
			return cmd("-role", "sub", "-count", strconv.FormatInt(count, 10), "-recv", o.goRecv)
		},
		pub: func(addr string, size int, count int64) *exec.Cmd {
			return cmd("-role", "pub", "-addr", addr, "-size", strconv.Itoa(size), "-count", strconv.FormatInt(count, 10))
		},
	}, nil
}

// profiledPair adds -cpuprofile to both Go roles.
func profiledPair(p pair, dir string, size, run int) pair {
	name := func(role string) string {
		return filepath.Join(dir, fmt.Sprintf("go-%s-%s-run%d.prof", sizeLabel(size), role, run))
	}
	return pair{
		sub: func(count int64) *exec.Cmd {
			c := p.sub(count)
			c.Args = append(c.Args, "-cpuprofile", name("sub"))
			return c
		},
		pub: func(addr string, size int, count int64) *exec.Cmd {
			c := p.pub(addr, size, count)
			c.Args = append(c.Args, "-cpuprofile", name("pub"))
			return c
		},
	}
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		mul := 1
		switch {
		case strings.HasSuffix(f, "MiB"):
			f, mul = strings.TrimSuffix(f, "MiB"), 1<<20
		case strings.HasSuffix(f, "KiB"):
			f, mul = strings.TrimSuffix(f, "KiB"), 1<<10
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q in -sizes", f)
		}
		out = append(out, n*mul)
	}
	return out, nil
}

func parseCounts(s string, want int) ([]int64, error) {
	fields := strings.Split(s, ",")
	if len(fields) != want {
		return nil, fmt.Errorf("-counts has %d values, -sizes has %d", len(fields), want)
	}
	out := make([]int64, len(fields))
	for i, f := range fields {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
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

func scenarioName(size int) string { return "pub/sub " + humanSize(size) }
