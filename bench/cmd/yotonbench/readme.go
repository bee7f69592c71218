package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// The generated summary in the top-level README sits between these
// markers; -readme rewrites what is between them and nothing else.
const (
	readmeBegin = "<!-- yotonbench summary: begin."
	readmeEnd   = "<!-- yotonbench summary: end -->"
	readmeNote  = readmeBegin + " Generated from bench/results.json by `" + renderFrom +
		"` (in bench/); edit bench/cmd/yotonbench/readme.go, not this block. -->"
)

// errNoMarkers says that a README has no place for the summary.
var errNoMarkers = errors.New("no yotonbench summary markers (" + readmeBegin + " ... -->, " + readmeEnd + ")")

// readmeBlock finds the generated block in text: the offsets of its
// first byte (the begin marker) and of the byte after the end marker.
func readmeBlock(text string) (int, int, error) {
	i := strings.Index(text, readmeBegin)
	if i < 0 {
		return 0, 0, errNoMarkers
	}
	j := strings.Index(text[i:], readmeEnd)
	if j < 0 {
		return 0, 0, errNoMarkers
	}
	return i, i + j + len(readmeEnd), nil
}

// checkReadme fails early (before a run of several minutes) when path
// cannot take the summary.
func checkReadme(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, _, err := readmeBlock(string(b)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// updateReadme replaces the generated block of the README at path.
func (rep *report) updateReadme(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(b)
	i, j, err := readmeBlock(text)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	text = text[:i] + rep.readmeSummary() + text[j:]
	return os.WriteFile(path, []byte(text), 0o644)
}

// readmeColumns are the systems of the README's table, with their
// column titles.
var readmeColumns = []struct{ key, title string }{
	{sysGoyoton, "Go yoton"},
	{sysPython, "Python yoton"},
	{sysLibzmq, "libzmq (cgo)"},
	{sysGozmq, "go-zeromq"},
	{sysMangos, "mangos"},
	{sysTCPAlloc, "raw TCP, alloc per msg"},
}

// readmeFigure is one line of the README's table: one figure of the rows
// of a scenario, one cell per system.
type readmeFigure struct {
	label    string
	scenario string
	fig      string
	less     bool   // less is better (times, memory)
	word     string // for less: what a ratio below 1 means ("faster", "less")
}

func (rep *report) readmeFigures() []readmeFigure {
	var out []readmeFigure
	goy := systemsByKey[sysGoyoton].name
	largest := ""
	for _, w := range rep.Rows {
		if w.System != goy {
			continue
		}
		switch w.Group {
		case grpPubSub:
			if w.Size < 64<<10 {
				out = append(out, readmeFigure{label: w.Scenario + " (msgs/s)", scenario: w.Scenario, fig: figMsgs})
			} else {
				out = append(out, readmeFigure{label: w.Scenario + " (MB/s)", scenario: w.Scenario, fig: figMB})
			}
		case grpFanout:
			out = append(out, readmeFigure{label: w.Scenario + " (deliveries/s)", scenario: w.Scenario, fig: figMsgs})
		case grpLatency:
			base := strings.TrimSuffix(w.Scenario, ", 1 in flight")
			out = append(out,
				readmeFigure{label: base + ", p50 (1 in flight)", scenario: w.Scenario, fig: figP50, less: true, word: "faster"},
				readmeFigure{label: base + ", p99 (1 in flight)", scenario: w.Scenario, fig: figP99, less: true, word: "faster"})
		case grpCalls:
			base, n, _ := strings.Cut(w.Scenario, ", ")
			out = append(out, readmeFigure{label: fmt.Sprintf("%s, calls/s (%s)", base, n), scenario: w.Scenario, fig: figCalls})
		case grpScale:
			largest = w.Scenario // rows come in the order of -conns
		}
	}
	if largest != "" {
		hub := strings.TrimPrefix(largest, "hub with ")
		out = append(out,
			readmeFigure{label: "hub, " + hub + ": setup", scenario: largest, fig: figSetup, less: true, word: "faster"},
			readmeFigure{label: "hub, " + hub + ": RSS per connection", scenario: largest, fig: figRSS, less: true, word: "less"},
			readmeFigure{label: "hub, " + hub + ": fan-out of one message to all", scenario: largest, fig: figFanout, less: true, word: "faster"})
	}
	return out
}

// rowFor returns the usable row of system key in scenario, or nil.
func (rep *report) rowFor(scenario, key string) *row {
	s := systemsByKey[key]
	if s == nil {
		return nil
	}
	for i := range rep.Rows {
		w := &rep.Rows[i]
		if w.Scenario == scenario && w.System == s.name && w.usable() {
			return w
		}
	}
	return nil
}

// readmeRatio writes Go yoton's figure over another's: "1.80×",
// "29,068×"; where less is better "0.70× (faster)", "1,912× faster",
// "1.13× (slower)".
func readmeRatio(f readmeFigure, goy, other *row) string {
	if goy == nil || other == nil {
		return "–"
	}
	a, b := goy.value(f.fig), other.value(f.fig)
	if a <= 0 || b <= 0 {
		return "–"
	}
	r := a / b
	x := ratioCell
	if !f.less {
		return x(r)
	}
	switch {
	case r < 0.1:
		return x(1/r) + " " + f.word
	case r <= 1:
		return x(r) + " (" + f.word + ")"
	case f.word == "less":
		return x(r) + " (more)"
	}
	return x(r) + " (slower)"
}

// readmeSummary is the generated block of the top-level README's
// Benchmarks section, markers included.
func (rep *report) readmeSummary() string {
	var b strings.Builder
	m := rep.Machine
	b.WriteString(readmeNote + "\n")
	var versions []string
	for _, s := range rep.Systems {
		if s.Version != "" && s.Key != sysGoyoton {
			versions = append(versions, s.Name+": "+s.Version)
		}
	}
	date, _, _ := strings.Cut(m.Date, "T")
	fmt.Fprintf(&b, "Measured side by side in one run of `bench/` on %s (Go yoton %s) on this project's %d-core Linux VM (%s; %s; %s); "+
		"every side is its own process on loopback. Each figure is the median of %d runs, with the lowest and the highest run "+
		"in brackets where they differ; %s. Differences under about 20 %% are noise on this machine; compare the ratios, "+
		"taken within one run. Full tables, CPU per message and the plots: [`bench/RESULTS.md`](bench/RESULTS.md).\n\n",
		date, m.GoYoton, m.Cores, m.CPU, m.Go, strings.Join(versions, "; "), rep.Runs, rep.lossSentence())

	b.WriteString("| scenario |")
	for _, c := range readmeColumns {
		b.WriteString(" " + c.title + " |")
	}
	b.WriteString(" Go ÷ libzmq | Go ÷ Python |\n|---|")
	b.WriteString(strings.Repeat("--:|", len(readmeColumns)+2) + "\n")
	for _, f := range rep.readmeFigures() {
		fmt.Fprintf(&b, "| %s |", f.label)
		for _, c := range readmeColumns {
			cell := "–"
			if w := rep.rowFor(f.scenario, c.key); w != nil && w.value(f.fig) > 0 {
				cell = w.cell(f.fig)
			}
			b.WriteString(" " + cell + " |")
		}
		goy := rep.rowFor(f.scenario, sysGoyoton)
		fmt.Fprintf(&b, " %s | %s |\n", readmeRatio(f, goy, rep.rowFor(f.scenario, sysLibzmq)),
			readmeRatio(f, goy, rep.rowFor(f.scenario, sysPython)))
	}

	b.WriteString("\nWhat the benchmark sets for each system (`bench/cmd/yotonbench/registry.go`), chosen so that no pub/sub " +
		"run drops a message, and each library's defaults, which drop messages when a queue is full; the last column is " +
		"a pub/sub run with those defaults (table 6 of RESULTS.md):\n\n")
	fmt.Fprintf(&b, "| system | settings in these runs | library defaults | %s |\n|---|---|---|---|\n", rep.defaultsTitle())
	for _, s := range rep.Systems {
		if s.Key == sysTCP {
			continue // as raw TCP (alloc)
		}
		def := s.Defaults
		if def == "" {
			def = "– (no library)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.Name, s.Settings, def, rep.defaultsLoss(s))
	}
	if p := rep.readmeProse(); p != "" {
		b.WriteString("\n" + p)
	}
	b.WriteString(readmeEnd)
	return b.String()
}

// lossSentence says whether any run with the benchmark's settings lost
// messages.
func (rep *report) lossSentence() string {
	lost := 0
	for _, w := range rep.Rows {
		if w.Group != grpDefaults {
			lost += w.LostRuns
		}
	}
	if lost == 0 {
		return "with the settings below no run lost a message"
	}
	return fmt.Sprintf("with the settings below %d run(s) lost messages and are left out of the medians (RESULTS.md, Notes)", lost)
}

// readmeProse is the figures the table has no room for (medians; the
// ranges are in RESULTS.md): the smaller hub, req/rep and pub/sub between
// Go and Python yoton.
func (rep *report) readmeProse() string {
	var b strings.Builder
	scale := rep.rowsOf(grpScale)
	if len(scale) > 0 {
		fmt.Fprintf(&b, "The hub is one context on one loop listening on one port (`Listen`); the clients are one context per "+
			"connection in %d processes.", rep.ScaleProcs)
		if g, z := rep.rowFor(scale[0].Scenario, sysGoyoton), rep.rowFor(scale[0].Scenario, sysLibzmq); g != nil && z != nil &&
			scale[0].Scenario != scale[len(scale)-1].Scenario {
			fmt.Fprintf(&b, " At %s connections it takes %s to set up (libzmq %s), %s per connection (%s) and %s to fan out (%s).",
				thousands(float64(g.Conns)), g.median(figSetup), z.median(figSetup), g.median(figRSS), z.median(figRSS),
				g.median(figFanout), z.median(figFanout))
		}
		b.WriteString(" Python yoton is not in the hub rows: it runs two threads per connection.\n\n")
	}
	goy, py := systemsByKey[sysGoyoton].name, systemsByKey[sysPython].name
	rr := rep.rowsOf(grpRRInterop)
	pair := func(req, rep string, inflight int) string {
		for _, w := range rr {
			if w.System == req+" → "+rep && w.InFlight == inflight && w.usable() {
				return w.median(figCalls)
			}
		}
		return "–"
	}
	if len(rr) > 0 {
		fmt.Fprintf(&b, "Between Go and Python it is yoton's exchange: a Go requester calling a Python replier makes %s calls/s "+
			"with one call in flight and %s with %d; a Python requester calling a Go replier %s and %s (Python's requester "+
			"polls its futures every 10 ms).", pair(goy, py, 1), pair(goy, py, rep.Outstanding), rep.Outstanding,
			pair(py, goy, 1), pair(py, goy, rep.Outstanding))
	}
	inter := rep.rowsOf(grpInterop)
	if len(inter) > 0 {
		size := inter[len(inter)-1].Size
		var parts []string
		for _, w := range inter {
			if w.Size == size && w.usable() {
				parts = append(parts, fmt.Sprintf("%s %s MB/s", w.System, w.median(figMB)))
			}
		}
		if w := rep.find(grpPubSub, size, py); w != nil {
			parts = append(parts, fmt.Sprintf("Python yoton → Python yoton %s MB/s", w.median(figMB)))
		}
		if len(rr) > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "Pub/sub between them at %s: %s.", humanSize(size), strings.Join(parts, ", "))
	}
	if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// find returns the usable row of system (by name) in group at size.
func (rep *report) find(group string, size int, system string) *row {
	for i := range rep.Rows {
		w := &rep.Rows[i]
		if w.Group == group && w.Size == size && w.System == system && w.usable() {
			return w
		}
	}
	return nil
}
