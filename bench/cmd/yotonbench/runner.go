package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// bench is one run of the runner: the systems that can run, how to start
// their processes, and the report being filled.
type bench struct {
	o       options
	stderr  io.Writer
	self    string // this executable
	zmqExe  string // runs the libzmq roles
	py      *pyEnv
	tmp     string
	systems []*system // selected and runnable, in table order
	rep     *report
	step    int // measured runs done
	steps   int // measured runs planned
	// sized: the count each system's pub/sub runs were calibrated to, per
	// size, for the defaults scenario.
	sized map[sizedKey]int64
}

type sizedKey struct {
	system string
	size   int
}

func runner(o options, stdout, stderr io.Writer) error {
	b, err := newBench(o, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	plan := b.plan()
	for _, sc := range plan {
		for _, c := range sc.cells {
			if c.pending == "" {
				b.steps += o.runs
			}
		}
	}
	start := time.Now()
	for _, sc := range plan {
		b.runScenario(sc)
	}
	b.rep.Elapsed = time.Since(start).Round(time.Second).String()
	b.rep.summarize()
	md := b.rep.markdown()
	fmt.Fprint(stdout, md)
	if o.out != "" {
		if err := b.rep.writePlots(filepath.Dir(o.out)); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		// Written again with the plots' links (markdown() omits the
		// links of plots that were not written).
		if err := os.WriteFile(o.out, []byte(b.rep.markdown()), 0o644); err != nil {
			return err
		}
	}
	if o.jsonOut != "" {
		if err := b.rep.writeJSON(o.jsonOut); err != nil {
			return err
		}
	}
	if o.readme != "" {
		if err := b.rep.updateReadme(o.readme); err != nil {
			return err
		}
	}
	if n := b.rep.failures(); n > 0 && o.require {
		return fmt.Errorf("%d figure(s) failed (see the notes under the tables)", n)
	}
	return nil
}

// rewrite renders the report of an earlier run (its results.json) again:
// RESULTS.md and the plots (out), the summary in readme, and, when
// jsonOut is set, the results file itself (its records unchanged, its
// rows and settings recomputed). A non-nil note replaces the file's note.
func rewrite(from, out, readme, jsonOut string, note *string, stdout io.Writer) error {
	rep, err := loadReport(from)
	if err != nil {
		return err
	}
	if note != nil {
		rep.Note = *note
	}
	if out != "" {
		if err := rep.writePlots(filepath.Dir(out)); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		if err := os.WriteFile(out, []byte(rep.markdown()), 0o644); err != nil {
			return err
		}
	}
	if readme != "" {
		if err := rep.updateReadme(readme); err != nil {
			return err
		}
	}
	if jsonOut != "" {
		if err := rep.writeJSON(jsonOut); err != nil {
			return err
		}
	}
	fmt.Fprint(stdout, rep.markdown())
	return nil
}

// loadReport reads a results.json and computes its rows. A file written
// before the settings were recorded on their own gets them (and the
// descriptions that go with them) from this program's registry.
func loadReport(path string) (*report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range rep.Records {
		rep.Records[i].derive() // the rates, as this program computes them
	}
	for i, s := range rep.Systems {
		if reg := systemsByKey[s.Key]; reg != nil && s.Settings == "" {
			info := reg.info(rep.Outstanding)
			info.Version = s.Version
			rep.Systems[i] = info
		}
	}
	rep.summarize()
	return &rep, nil
}

// newBench finds what every selected system needs, skipping (or, with
// -require, failing on) those that cannot run here.
func newBench(o options, stderr io.Writer) (*bench, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, stderr: stderr, self: self, sized: map[sizedKey]int64{}}
	if b.tmp, err = os.MkdirTemp("", "yotonbench"); err != nil {
		return nil, err
	}
	b.rep = &report{
		Runs: o.runs, Target: o.target.String(), Quick: o.quick, GoRecv: o.goRecv, Note: o.note,
		FanoutSubs: o.fanoutSubs, Outstanding: o.outstanding, ScaleProcs: o.scaleProcs, Rounds: o.rounds,
		Skipped: map[string]string{},
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return nil, err
		}
	}
	skip := func(s *system, err error) error {
		if o.require {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(stderr, "yotonbench: skipping %s: %v\n", s.name, err)
		b.rep.Skipped[s.name] = err.Error()
		return nil
	}
	for _, key := range systemOrder {
		if !slices.Contains(o.systems, key) {
			continue
		}
		s := systemsByKey[key]
		info := s.info(o.outstanding)
		switch s.launcher {
		case launchPython:
			py, err := findPython(o.python, o.pythonPath)
			if err != nil {
				if err := skip(s, err); err != nil {
					b.close()
					return nil, err
				}
				continue
			}
			b.py = py
			info.Version = py.yoton + ", " + py.version
		case launchLibzmq:
			exe, err := libzmqPeer(self, b.tmp, stderr)
			if err != nil {
				if err := skip(s, err); err != nil {
					b.close()
					return nil, err
				}
				continue
			}
			b.zmqExe = exe
			info.Version = "libzmq " + libzmqVersion(exe)
		default:
			info.Version = moduleVersion(map[string]string{
				sysGoyoton: "github.com/goyoton/yoton",
				sysGozmq:   "github.com/go-zeromq/zmq4",
				sysMangos:  "go.nanomsg.org/mangos/v3",
			}[s.key])
		}
		b.systems = append(b.systems, s)
		b.rep.Systems = append(b.rep.Systems, info)
	}
	if len(b.systems) == 0 {
		b.close()
		return nil, errors.New("no system to measure")
	}
	b.rep.Machine = describeMachine()
	return b, nil
}

func (b *bench) close() {
	if b.py != nil {
		b.py.close()
	}
	if b.tmp != "" {
		_ = os.RemoveAll(b.tmp)
	}
}

// moduleVersion is the version of a module built into this binary.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || path == "" {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return path + " (local " + d.Replace.Path + ")"
			}
			return path + " " + d.Version
		}
	}
	return path
}

func (b *bench) system(key string) *system {
	for _, s := range b.systems {
		if s.key == key {
			return s
		}
	}
	return nil
}

// command returns the command that runs role of system s with flags a.
func (b *bench) command(s *system, role string, a []string) *exec.Cmd {
	if s.launcher == launchPython {
		return b.py.roleCommand(role, a)
	}
	exe := b.self
	if s.launcher == launchLibzmq {
		exe = b.zmqExe
	}
	cmd := exec.Command(exe, append([]string{"-role", s.key + "." + role}, a...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	return cmd
}

// flags builds a child's flag list from name/value pairs.
func flags(kv ...any) []string {
	var out []string
	for i := 0; i+1 < len(kv); i += 2 {
		name := "--" + kv[i].(string)
		switch v := kv[i+1].(type) {
		case bool:
			if v {
				out = append(out, name)
			}
		case string:
			if v != "" {
				out = append(out, name, v)
			}
		case int:
			out = append(out, name, strconv.Itoa(v))
		case int64:
			out = append(out, name, strconv.FormatInt(v, 10))
		case float64:
			out = append(out, name, strconv.FormatFloat(v, 'f', -1, 64))
		default:
			panic(fmt.Sprintf("flags: %T", v))
		}
	}
	return out
}

// progress prints one line per run on stderr: how far, what, and the
// headline figure.
func (b *bench) progress(r record) {
	what := fmt.Sprintf("run %d/%d", r.Run, b.o.runs)
	if r.Pilot {
		what = fmt.Sprintf("calibration %d", r.Run)
	} else {
		b.step++
	}
	pct := 0
	if b.steps > 0 {
		pct = 100 * b.step / b.steps
	}
	fig := r.headline()
	switch {
	case r.Error != "":
		fig = "FAILED: " + firstLine(r.Error)
	case r.Lost:
		fig += fmt.Sprintf("  LOST %d of %d", r.Expected-r.Count, r.Expected)
	}
	fmt.Fprintf(b.stderr, "yotonbench [%3d%% %d/%d] %-24s %-22s %-14s %s\n",
		pct, b.step, b.steps, r.Scenario, r.System, what, fig)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// profileFlag returns the -cpuprofile flag for a Go child (pub/sub roles
// and the scale hub), when -profile is set and the run is measured.
func (b *bench) profileFlag(s *system, c *cell, role string, run int, pilot bool) string {
	if b.o.profileDir == "" || pilot || s.launcher == launchPython {
		return ""
	}
	what := sizeLabel(c.size)
	if c.conns > 0 {
		what = fmt.Sprintf("%dconns", c.conns)
	}
	name := fmt.Sprintf("%s-%s-%s-%s-run%d.prof", s.key, c.group, what, role, run)
	return filepath.Join(b.o.profileDir, name)
}
