package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// report is everything a run produced: results.json holds it whole.
type report struct {
	Machine     machine           `json:"machine"`
	Systems     []systemInfo      `json:"systems"`
	Skipped     map[string]string `json:"skipped,omitempty"` // system → why
	Runs        int               `json:"runs_per_figure"`
	Target      string            `json:"target"`
	Quick       bool              `json:"quick,omitempty"`
	GoRecv      string            `json:"go_recv_mode"`
	FanoutSubs  int               `json:"fanout_subs"`
	Outstanding int               `json:"outstanding"`
	ScaleProcs  int               `json:"scale_procs"`
	Rounds      int               `json:"scale_rounds"`
	Note        string            `json:"note,omitempty"`
	Elapsed     string            `json:"elapsed,omitempty"`
	Rows        []row             `json:"rows"`
	Records     []record          `json:"records"`
	plots       []plotFile        // written by writePlots
}

type systemInfo struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	About string `json:"about"`
	// Settings: what the benchmark set (queues, high-water marks,
	// windows); Defaults: the library's own, which the defaults scenario
	// keeps ("" for raw TCP, which has none).
	Settings string `json:"settings,omitempty"`
	Defaults string `json:"defaults,omitempty"`
	Version  string `json:"version,omitempty"`
}

// row is one figure of a table: the medians of a cell's good runs.
type row struct {
	// Spread is (max − min) ÷ median of the row's headline figure over
	// its runs (0 with one run).
	Spread   float64 `json:"spread,omitempty"`
	Group    string  `json:"group"`
	Scenario string  `json:"scenario"`
	System   string  `json:"system"`
	Size     int     `json:"size,omitempty"`
	Subs     int     `json:"subs,omitempty"`
	Conns    int     `json:"conns,omitempty"`
	InFlight int     `json:"in_flight,omitempty"`        // req/rep: calls the requester kept in flight
	Expected int64   `json:"expected_per_run,omitempty"` // messages (deliveries) per run
	Runs     int     `json:"runs"`                       // runs in the medians
	LostRuns int     `json:"lost_runs,omitempty"`        // runs that lost messages
	Error    string  `json:"error,omitempty"`            // a run failed
	Pending  string  `json:"pending,omitempty"`          // not available yet

	MsgsPerSec    float64 `json:"msgs_per_sec,omitempty"`
	MBPerSec      float64 `json:"mb_per_sec,omitempty"`
	CPUPerMillion float64 `json:"cpu_s_per_1m_msgs,omitempty"`
	Calls         float64 `json:"calls,omitempty"`
	CallsPerSec   float64 `json:"calls_per_sec,omitempty"`
	P50us         float64 `json:"p50_us,omitempty"`
	P99us         float64 `json:"p99_us,omitempty"`
	P999us        float64 `json:"p999_us,omitempty"`
	MeanUs        float64 `json:"mean_us,omitempty"`
	FastShare     float64 `json:"fast_share,omitempty"` // Go yoton requester: calls on the fast path
	Setup         float64 `json:"setup_seconds,omitempty"`
	BytesPerConn  float64 `json:"rss_bytes_per_conn,omitempty"`
	FanoutMs      float64 `json:"fanout_ms,omitempty"`
	Received      float64 `json:"received,omitempty"` // defaults scenario: messages that arrived per run
	fastKnown     bool    // a run reported FastCalls (set by summarize)
	// Ranges: the lowest and highest run of each figure (by its name in
	// this file: "msgs_per_sec", "p50_us", ...), with two runs or more.
	Ranges map[string][2]float64 `json:"ranges,omitempty"`

	// The headline figure (headline()) divided by the same figure of
	// libzmq, of raw TCP (alloc) and of Python yoton in the same scenario
	// of the same run; for interop, of Go yoton's and Python yoton's own
	// pub/sub at that size (none for req/rep interop).
	VsLibzmq float64 `json:"vs_libzmq,omitempty"`
	VsRaw    float64 `json:"vs_raw_tcp_alloc,omitempty"`
	VsPython float64 `json:"vs_python,omitempty"`
	VsGo     float64 `json:"vs_goyoton,omitempty"`
}

// headline is the figure a row is compared by, and whether more is better.
func (w *row) headline() (float64, bool) {
	switch w.Group {
	case grpLatency:
		return w.P50us, false
	case grpCalls, grpRRInterop:
		return w.CallsPerSec, true
	case grpScale:
		return w.FanoutMs, false
	}
	return w.MsgsPerSec, true
}

func (w *row) usable() bool { return w.Runs > 0 && w.Pending == "" }

// summarize computes the rows: per cell, medians (and ranges) over the
// runs that neither failed nor lost anything; then the ratios. In the
// defaults scenario losing is the figure: its lost runs count too.
func (rep *report) summarize() {
	rep.Rows = nil
	type key struct{ scenario, system string }
	index := map[key]int{}
	perRow := map[key][]record{}
	for _, r := range rep.Records {
		k := key{r.Scenario, r.System}
		i, seen := index[k]
		if !seen {
			i = len(rep.Rows)
			index[k] = i
			rep.Rows = append(rep.Rows, row{Group: r.Group, Scenario: r.Scenario, System: r.System,
				Size: r.Size, Subs: r.Subs, Conns: r.Conns, InFlight: r.InFlight})
		}
		w := &rep.Rows[i]
		switch {
		case r.Pending != "":
			w.Pending = r.Pending
		case r.Error != "":
			w.Error = r.Error
		case r.Pilot:
		case r.Lost && r.Group != grpDefaults:
			w.LostRuns++
			w.Expected = r.Expected
		default:
			if r.Lost {
				w.LostRuns++
			}
			w.Runs++
			w.Expected = r.Expected
			w.fastKnown = w.fastKnown || r.AllCalls > 0
			w.Subs, w.Conns = r.Subs, r.Conns
			perRow[k] = append(perRow[k], r)
		}
	}
	for k, i := range index {
		rs := perRow[k]
		w := &rep.Rows[i]
		m := func(name string, f func(r record) float64) float64 {
			v := make([]float64, 0, len(rs))
			for _, r := range rs {
				v = append(v, f(r))
			}
			if name != "" && len(v) > 1 && slices.Max(v) > 0 {
				if w.Ranges == nil {
					w.Ranges = map[string][2]float64{}
				}
				w.Ranges[name] = [2]float64{slices.Min(v), slices.Max(v)}
			}
			return median(v)
		}
		w.MsgsPerSec = m(figMsgs, func(r record) float64 { return r.MsgsPerSec })
		w.MBPerSec = m(figMB, func(r record) float64 { return r.MBPerSec })
		w.CPUPerMillion = m(figCPU, func(r record) float64 { return r.CPUPerMillion })
		w.Calls = m("", func(r record) float64 { return float64(r.Calls) })
		w.CallsPerSec = m(figCalls, func(r record) float64 { return r.CallsPerSec })
		w.P50us = m(figP50, func(r record) float64 { return r.P50us })
		w.P99us = m(figP99, func(r record) float64 { return r.P99us })
		w.P999us = m(figP999, func(r record) float64 { return r.P999us })
		w.MeanUs = m("", func(r record) float64 { return r.MeanUs })
		w.FastShare = m("", func(r record) float64 { return r.FastShare })
		w.Setup = m(figSetup, func(r record) float64 { return r.Setup })
		w.BytesPerConn = m(figRSS, func(r record) float64 { return r.BytesPerConn })
		w.FanoutMs = m(figFanout, func(r record) float64 { return r.FanoutMs })
		if w.Group == grpDefaults {
			w.Received = m(figReceived, func(r record) float64 { return float64(r.Count) })
		}
		if mid, _ := w.headline(); mid > 0 && len(rs) > 1 {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range rs {
				v, _ := (&row{Group: r.Group, MsgsPerSec: r.MsgsPerSec, CallsPerSec: r.CallsPerSec,
					P50us: r.P50us, FanoutMs: r.FanoutMs}).headline()
				lo, hi = min(lo, v), max(hi, v)
			}
			w.Spread = (hi - lo) / mid
		}
	}
	rep.ratios()
}

// ratios fills the Vs fields from rows of the same scenario.
func (rep *report) ratios() {
	find := func(group, scenario, system string, size int) *row {
		for i := range rep.Rows {
			w := &rep.Rows[i]
			if w.System == system && w.Group == group && (scenario == "" || w.Scenario == scenario) &&
				(size == 0 || w.Size == size) && w.usable() {
				return w
			}
		}
		return nil
	}
	ratio := func(w, ref *row) float64 {
		if ref == nil || !w.usable() {
			return 0
		}
		a, _ := w.headline()
		b, _ := ref.headline()
		if a <= 0 || b <= 0 {
			return 0
		}
		return a / b
	}
	libzmq, raw, python, goyoton := systemsByKey[sysLibzmq].name, systemsByKey[sysTCPAlloc].name,
		systemsByKey[sysPython].name, systemsByKey[sysGoyoton].name
	for i := range rep.Rows {
		w := &rep.Rows[i]
		switch w.Group {
		case grpInterop:
			w.VsGo = ratio(w, find(grpPubSub, "", goyoton, w.Size))
			w.VsPython = ratio(w, find(grpPubSub, "", python, w.Size))
			continue
		case grpRRInterop, grpDefaults: // table 3 holds each side's own figures; losses are not compared
			continue
		}
		w.VsLibzmq = ratio(w, find(w.Group, w.Scenario, libzmq, 0))
		w.VsRaw = ratio(w, find(w.Group, w.Scenario, raw, 0))
		w.VsPython = ratio(w, find(w.Group, w.Scenario, python, 0))
	}
}

// failures counts the rows whose runs failed or lost messages.
func (rep *report) failures() int {
	n := 0
	for _, w := range rep.Rows {
		if w.Error != "" || (w.Runs == 0 && w.Pending == "") {
			n++
		}
	}
	return n
}

func (rep *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// rowsOf returns the rows of a group, in the order they were measured.
func (rep *report) rowsOf(group string) []row {
	var out []row
	for _, w := range rep.Rows {
		if w.Group == group {
			out = append(out, w)
		}
	}
	return out
}

// status is what a row shows instead of numbers, or "".
func (w *row) status() string {
	switch {
	case w.Pending != "":
		return w.Pending
	case w.Error != "":
		return "FAILED: " + strings.ReplaceAll(firstLine(w.Error), "|", "/")
	case w.Runs == 0 && w.LostRuns > 0:
		return "LOST (every run lost messages)"
	case w.Runs == 0:
		return "no run"
	}
	return ""
}

// runsCell says how many runs made the figure and how many were lost.
func (w *row) runsCell() string {
	s := fmt.Sprint(w.Runs)
	if w.LostRuns > 0 {
		s += fmt.Sprintf(" (+%d LOST)", w.LostRuns)
	}
	return s
}

func ratioCell(v float64) string {
	if v <= 0 {
		return ""
	}
	switch {
	case v >= 1000:
		return thousands(v) + "×"
	case v >= 10:
		return fmt.Sprintf("%.0f×", v)
	case v < 0.1:
		return fmt.Sprintf("%.2g×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

func (rep *report) systemNames() map[string]string {
	m := map[string]string{}
	for _, s := range rep.Systems {
		m[s.Key] = s.Name
	}
	return m
}

// How to rerun the benchmark, stated alike in RESULTS.md, bench/README.md
// and the top-level README (TestRerunStatedAlike checks the READMEs).
const (
	rerunCommand = "cd bench && go run -tags libzmq ./cmd/yotonbench -readme ../README.md"
	rerunTime    = "about 10 minutes"
	quickTime    = "under 2 minutes"
	renderFrom   = "go run ./cmd/yotonbench -from results.json -readme ../README.md"
)

// markdown renders RESULTS.md. It depends only on the report (what
// results.json holds) and the plots written, so that -from renders the
// same page again.
func (rep *report) markdown() string {
	var b strings.Builder
	m := rep.Machine
	b.WriteString("# yoton benchmarks: Go yoton vs Python yoton, libzmq, go-zeromq, mangos and raw TCP\n\n")
	fmt.Fprintf(&b, "- Date: %s (took %s)\n", m.Date, rep.Elapsed)
	fmt.Fprintf(&b, "- Machine: %s, %d cores, Linux %s, load average %s at the start\n", m.CPU, m.Cores, m.Kernel, m.Load)
	fmt.Fprintf(&b, "- Go: %s; Go yoton %s (subscriber mode: %s)\n", m.Go, m.GoYoton, rep.GoRecv)
	for _, s := range rep.Systems {
		if s.Version != "" && s.Key != sysGoyoton {
			fmt.Fprintf(&b, "- %s: %s\n", s.Name, s.Version)
		}
	}
	for _, name := range sortedKeys(rep.Skipped) {
		fmt.Fprintf(&b, "- %s: not measured: %s\n", name, rep.Skipped[name])
	}
	mode := ""
	if rep.Quick {
		mode = " (-quick: a smoke run, not a measurement)"
	}
	fmt.Fprintf(&b, "- Method: every side is its own process on 127.0.0.1; each figure is the median of %d run(s)%s, "+
		"with the lowest and the highest run in brackets where they differ; "+
		"pub/sub runs are sized to last about %s; the systems take turns run by run.\n", rep.Runs, mode, rep.Target)
	fmt.Fprintf(&b, "- **Noise:** this machine has %d cores, "+
		"and every run puts two or more busy processes on them: differences under ~20 %% are noise. "+
		"Ratios are taken within one run of the benchmark, where all systems saw the same conditions.\n", m.Cores)
	if rep.Note != "" {
		fmt.Fprintf(&b, "- Note: %s\n", rep.Note)
	}
	fmt.Fprintf(&b, "\nRerun: `%s` (%s; `-quick`: a smoke run, %s). "+
		"Render this page, the plots and the README's summary again from `results.json` without measuring: `%s`. "+
		"Compare two runs: `go run ./cmd/yotonbench -compare old.json,new.json`.\n",
		rerunCommand, rerunTime, quickTime, renderFrom)

	rep.settingsTable(&b)
	rep.throughputTable(&b, grpPubSub, "## 1. Pub/sub, 1 publisher → 1 subscriber",
		"Two processes. msgs/s and MB/s (payload, 10⁶ B) from the first to the last message at the subscriber; "+
			"CPU is user+sys of both processes for their whole life, per million messages.")
	rep.throughputTable(&b, grpFanout, fmt.Sprintf("## 2. Fan-out, 1 publisher → %d subscribers", rep.FanoutSubs),
		fmt.Sprintf("**%d connections, 2 processes**: one publisher process connected to %d subscriber sockets "+
			"(contexts, for yoton), all %d in one subscriber process (%d processes would only measure the "+
			"scheduler on %d cores). msgs/s counts deliveries: one message reaching %d subscribers counts %d.",
			rep.FanoutSubs, rep.FanoutSubs, rep.FanoutSubs, rep.FanoutSubs, m.Cores, rep.FanoutSubs, rep.FanoutSubs))
	rep.reqrepTable(&b)
	rep.scaleTable(&b)
	rep.interopTable(&b)
	rep.defaultsTable(&b)
	rep.spreadTable(&b)
	rep.plotLinks(&b)
	b.WriteString("\n## Systems\n\n")
	for _, s := range rep.Systems {
		fmt.Fprintf(&b, "- **%s**: %s\n", s.Name, s.About)
	}
	rep.notes(&b)
	return b.String()
}

// defaultsRows returns the rows of the defaults scenario.
func (rep *report) defaultsRows() []row { return rep.rowsOf(grpDefaults) }

// lossCell says what a defaults row lost: "none of 4.99 M",
// "1.23 M of 2.46 M (50 %; 3 of 3 runs lost some)".
func (w *row) lossCell() string {
	if st := w.status(); st != "" {
		return st
	}
	sent := float64(w.Expected)
	if w.LostRuns == 0 {
		return "none of " + rateUnit(sent).num(sent) + rateUnit(sent).suffix
	}
	lost := sent - w.Received
	u := rateUnit(sent)
	s := fmt.Sprintf("%s of %s (%s", rateUnit(lost).num(lost)+rateUnit(lost).suffix, u.num(sent)+u.suffix, percent(100*lost/sent))
	if r, ok := w.Ranges[figReceived]; ok && r[0] != r[1] {
		s += fmt.Sprintf(", runs %s–%s", percent(100*(sent-r[1])/sent), percent(100*(sent-r[0])/sent))
	}
	if w.LostRuns < w.Runs {
		s += fmt.Sprintf("; %d of %d runs lost some", w.LostRuns, w.Runs)
	}
	return s + ")"
}

// defaultsLoss is what the settings tables show for a system's defaults
// run: its loss, "not measured in this results.json", or "–" for a
// system without defaults.
func (rep *report) defaultsLoss(s systemInfo) string {
	if s.Defaults == "" {
		return "–"
	}
	if w := findIn(rep.defaultsRows(), s.Name); w != nil {
		return w.lossCell()
	}
	return "not measured in this results.json"
}

// defaultsTitle names the column of the defaults scenario's losses.
func (rep *report) defaultsTitle() string {
	if rows := rep.defaultsRows(); len(rows) > 0 {
		return fmt.Sprintf("pub/sub %s with the defaults: lost", humanSize(rows[0].Size))
	}
	return "pub/sub with the defaults: lost"
}

// settingsTable states what the benchmark set for every system, the
// library's defaults, and what pub/sub lost with those (scenario 6).
func (rep *report) settingsTable(b *strings.Builder) {
	if len(rep.Systems) == 0 {
		return
	}
	b.WriteString("\n## Settings\n\n")
	b.WriteString("What each system was set to in tables 1–5, chosen so that no pub/sub run drops a message, " +
		"and its library's defaults, which drop when a queue is full (table 6 measures how much).\n\n")
	fmt.Fprintf(b, "| system | settings in these runs | library defaults | %s |\n|---|---|---|---|\n", rep.defaultsTitle())
	for _, s := range rep.Systems {
		def := s.Defaults
		if def == "" {
			def = "– (no library)"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", s.Name, s.Settings, def, rep.defaultsLoss(s))
	}
}

// defaultsTable is scenario 6: pub/sub with each library's defaults.
func (rep *report) defaultsTable(b *strings.Builder) {
	rows := rep.defaultsRows()
	b.WriteString("\n## 6. Pub/sub with each library's defaults\n\n")
	if len(rows) == 0 {
		fmt.Fprintf(b, "Not measured in this results.json: it comes from a run without the defaults scenario. "+
			"`%s` measures it with everything else.\n", rerunCommand)
		return
	}
	size := humanSize(rows[0].Size)
	fmt.Fprintf(b, "Pub/sub 1 → 1 at %s as in table 1, but every system keeps its library's default queues, "+
		"high-water marks and limits (the settings table above; raw TCP has none and is left out). "+
		"Each system's publisher sends, as fast as it can, as many messages as its runs with the benchmark's settings "+
		"were sized to at that size (to take about %s; table 1's count). \"received\" counts what arrived; "+
		"the runs that lost messages count here.\n\n",
		size, rep.Target)
	b.WriteString("| system | library defaults | sent per run | runs | received | lost |\n|---|---|--:|--:|--:|---|\n")
	defaults := map[string]string{}
	for _, s := range rep.Systems {
		defaults[s.Name] = s.Defaults
	}
	for _, w := range rows {
		if st := w.status(); st != "" {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | |\n", w.System, defaults[w.System], thousands(float64(w.Expected)), w.runsCell(), st)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s | %s |\n", w.System, defaults[w.System], thousands(float64(w.Expected)),
			w.Runs, w.cell(figReceived), w.lossCell())
	}
}

func (rep *report) throughputTable(b *strings.Builder, group, title, intro string) {
	rows := rep.rowsOf(group)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n\n%s\n\n", title, intro)
	b.WriteString("| size | system | msgs per run | runs | msgs/s | MB/s | CPU s / 1M msgs | ÷ libzmq | ÷ raw TCP (alloc) | ÷ Python yoton |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, w := range rows {
		if st := w.status(); st != "" {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | | | | | |\n", humanSize(w.Size), w.System, thousands(float64(w.Expected)), w.runsCell(), st)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", humanSize(w.Size), w.System,
			thousands(float64(w.Expected)), w.runsCell(), w.cell(figMsgs), w.cell(figMB), w.cell(figCPU),
			ratioCell(w.VsLibzmq), ratioCell(w.VsRaw), ratioCell(w.VsPython))
	}
}

func (rep *report) reqrepTable(b *strings.Builder) {
	lat, calls, inter := rep.rowsOf(grpLatency), rep.rowsOf(grpCalls), rep.rowsOf(grpRRInterop)
	all := slices.Concat(lat, calls, inter)
	if len(all) == 0 {
		return
	}
	size := 0
	for _, w := range all {
		size = w.Size
	}
	fmt.Fprintf(b, "\n## 3. Req/rep, %s\n\n", humanSize(size))
	if len(lat)+len(calls) > 0 {
		rep.reqrepMain(b, lat, calls)
	}
	rep.reqrepInterop(b, inter)
	rep.fastPath(b, all)
}

func (rep *report) reqrepMain(b *strings.Builder, lat, calls []row) {
	fmt.Fprintf(b, "Two processes: a replier that echoes, a requester. Latency: one call in flight, every call timed "+
		"(percentiles over all calls of a run, then the median over runs). calls/s: %d calls in flight "+
		"(libzmq and go-zeromq: a DEALER; mangos: %d contexts; raw TCP: pipelined on one connection; Python yoton: %d futures; "+
		"Go yoton: %d calls on one ReqChannel). "+
		"Go yoton's replier takes up to %d requests at once (`channels.WithWindow(%d)`) in both columns. "+
		"Python yoton leaves Nagle on and polls futures every 10 ms.\n\n",
		rep.Outstanding, rep.Outstanding, rep.Outstanding, rep.Outstanding, rep.Outstanding, rep.Outstanding)
	b.WriteString("| system | p50 | p99 | p99.9 | calls timed | calls/s, " + fmt.Sprint(rep.Outstanding) +
		" in flight | p50 ÷ libzmq's | calls/s ÷ libzmq's | calls/s ÷ raw TCP's |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var systems []string
	for _, w := range append(slices.Clone(lat), calls...) {
		if !slices.Contains(systems, w.System) {
			systems = append(systems, w.System)
		}
	}
	for _, s := range systems {
		l, c := findIn(lat, s), findIn(calls, s)
		cells := make([]string, 8)
		if l != nil {
			if st := l.status(); st != "" {
				cells[0] = st
			} else {
				cells[0], cells[1], cells[2] = l.cell(figP50), l.cell(figP99), l.cell(figP999)
				cells[3] = thousands(l.Calls)
				cells[5] = ratioCell(l.VsLibzmq)
			}
		}
		if c != nil {
			if st := c.status(); st != "" {
				if cells[0] != st {
					cells[4] = st
				}
			} else {
				cells[4] = c.cell(figCalls)
				cells[6], cells[7] = ratioCell(c.VsLibzmq), ratioCell(c.VsRaw)
			}
		}
		fmt.Fprintf(b, "| %s | %s |\n", s, strings.Join(cells, " | "))
	}
}

// reqrepInterop is the small table of req/rep between Go yoton and
// Python yoton: one row per pair, calls/s with one call and with
// -outstanding calls in flight.
func (rep *report) reqrepInterop(b *strings.Builder, rows []row) {
	if len(rows) == 0 {
		return
	}
	n := rep.Outstanding
	var one, many []row
	var pairs []string
	for _, w := range rows {
		if w.InFlight == 1 {
			one = append(one, w)
		} else {
			many = append(many, w)
			n = w.InFlight
		}
		if !slices.Contains(pairs, w.System) {
			pairs = append(pairs, w.System)
		}
	}
	b.WriteString("\n### Req/rep between Go and Python yoton\n\n")
	fmt.Fprintf(b, "The pairs of scenario 5 with the echo above: the requester keeps 1 or %d calls in flight and counts them "+
		"(its throughput mode). Go yoton's replier takes up to %d requests at once; Python yoton's (thread mode) one at a time. "+
		"Each side's own figures (Go yoton → Go yoton, Python yoton → Python yoton) are in the table above.\n\n", n, rep.Outstanding)
	fmt.Fprintf(b, "| requester → replier | runs | calls/s, 1 in flight | calls/s, %d in flight |\n", n)
	b.WriteString("|---|--:|--:|--:|\n")
	cell := func(w *row) string {
		switch {
		case w == nil:
			return ""
		case w.status() != "":
			return w.status()
		}
		return w.cell(figCalls)
	}
	for _, p := range pairs {
		a, c := findIn(one, p), findIn(many, p)
		var runs []string
		for _, w := range []*row{a, c} {
			if w != nil {
				runs = append(runs, w.runsCell())
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", p, strings.Join(runs, ", "), cell(a), cell(c))
	}
}

// fastPath says which share of Go yoton's calls went straight to a Go
// replier (ReqChannel.FastCalls), for each row with a Go requester that
// reported it.
func (rep *report) fastPath(b *strings.Builder, rows []row) {
	goy := systemsByKey[sysGoyoton].name
	var parts []string
	for _, w := range rows {
		if !w.fastKnown || !w.usable() || (w.System != goy && !strings.HasPrefix(w.System, goy+" →")) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s, %d in flight: %.1f %%", w.System, w.InFlight, 100*w.FastShare))
	}
	if len(parts) == 0 {
		return
	}
	fmt.Fprintf(b, "\nGo yoton's calls on the fast path (a Go requester sends straight to a Go replier within the replier's grant, "+
		"without yoton's announce-and-offer round trip; `ReqChannel.FastCalls`, warm-up included): %s.\n", strings.Join(parts, "; "))
}

// findIn returns the row of system in rows, or nil.
func findIn(rows []row, system string) *row {
	for i := range rows {
		if rows[i].System == system {
			return &rows[i]
		}
	}
	return nil
}

func (rep *report) scaleTable(b *strings.Builder) {
	rows := rep.rowsOf(grpScale)
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n## 4. Scale: one hub holding thousands of connections\n\n")
	fmt.Fprintf(b, "One hub process publishes one 64-byte message to N connections; the N clients live in %d processes. "+
		"Go yoton: the hub is one context on one loop listening on one port (`Context.Listen`); each client process holds its "+
		"share of the N client contexts (one per connection, each with a SubChannel) on one reactor and connects them, 64 at a time. "+
		"libzmq: one XPUB socket bound to one port, "+
		"N SUB sockets connect (UP when N subscriptions arrived). Raw TCP: one listening port; the hub writes each message "+
		"to every connection in turn from one goroutine. RLIMIT_NOFILE is raised in every process. "+
		"Setup: from starting the connecting processes to the hub holding every connection. Memory: the hub's RSS after "+
		"connecting minus before, divided by N (after a GC that returns free memory). Fan-out: from just before the send "+
		"to the arrival at the last client; median of %d rounds per run.\n\n", rep.ScaleProcs, rep.Rounds)
	b.WriteString("| connections | system | runs | setup | hub RSS per connection | fan-out to all | arrived | fan-out ÷ libzmq's | ÷ raw TCP's |\n")
	b.WriteString("|--:|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, w := range rows {
		if st := w.status(); st != "" {
			fmt.Fprintf(b, "| %s | %s | %s | %s | | | | | |\n", thousands(float64(w.Conns)), w.System, w.runsCell(), st)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s per round | %s | %s |\n",
			thousands(float64(w.Conns)), w.System, w.runsCell(), w.cell(figSetup), w.cell(figRSS), w.cell(figFanout),
			thousands(float64(w.Conns)), ratioCell(w.VsLibzmq), ratioCell(w.VsRaw))
	}
	if py := rep.systemNames()[sysPython]; py != "" {
		fmt.Fprintf(b, "\n%s is not measured here: it runs two threads per connection (20,000 threads for 10,000 connections).\n", py)
	}
}

func (rep *report) interopTable(b *strings.Builder) {
	rows := rep.rowsOf(grpInterop)
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n## 5. Interop: Go yoton ↔ Python yoton\n\n")
	b.WriteString("Pub/sub as in 1., with one side in Go and the other in Python. The ratios compare with Go yoton's and " +
		"Python yoton's own pub/sub at the same size (table 1).\n\n")
	b.WriteString("| size | direction | msgs per run | runs | msgs/s | MB/s | CPU s / 1M msgs | ÷ Go yoton → Go yoton | ÷ Python yoton → Python yoton |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, w := range rows {
		if st := w.status(); st != "" {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | | | | |\n", humanSize(w.Size), w.System, thousands(float64(w.Expected)), w.runsCell(), st)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", humanSize(w.Size), w.System,
			thousands(float64(w.Expected)), w.runsCell(), w.cell(figMsgs), w.cell(figMB), w.cell(figCPU),
			ratioCell(w.VsGo), ratioCell(w.VsPython))
	}
}

// notes lists lost runs and failures (losses of the defaults scenario
// are its figures, not notes).
func (rep *report) notes(b *strings.Builder) {
	var lines []string
	lost := 0
	for _, w := range rep.Rows {
		if w.Group == grpDefaults {
			if w.Error != "" {
				lines = append(lines, fmt.Sprintf("%s, %s: FAILED: %s", w.Scenario, w.System, strings.ReplaceAll(firstLine(w.Error), "|", "/")))
			}
			continue
		}
		lost += w.LostRuns
		if w.LostRuns > 0 {
			lines = append(lines, fmt.Sprintf("%s, %s: %d of %d runs LOST messages and are not in the medians",
				w.Scenario, w.System, w.LostRuns, w.LostRuns+w.Runs))
		}
		if w.Error != "" {
			lines = append(lines, fmt.Sprintf("%s, %s: FAILED: %s", w.Scenario, w.System, strings.ReplaceAll(firstLine(w.Error), "|", "/")))
		}
	}
	if len(lines) == 0 {
		b.WriteString("\nWith the benchmark's settings, every run of every figure delivered every message.\n")
		return
	}
	b.WriteString("\n## Notes\n\n")
	for _, l := range lines {
		fmt.Fprintf(b, "- %s\n", l)
	}
	if lost == 0 {
		b.WriteString("- No run lost a message.\n")
	}
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// spreadTable shows how far apart each figure's runs were: the spread of
// its headline figure (msgs/s, p50, calls/s, fan-out time) over its runs.
func (rep *report) spreadTable(b *strings.Builder) {
	var rows []row
	for _, w := range rep.Rows {
		if w.usable() && w.Runs > 1 && w.Group != grpDefaults {
			rows = append(rows, w)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n## Spread over runs\n\n")
	b.WriteString("(max − min) ÷ median of each figure's headline number (msgs/s, p50, calls/s, fan-out time) over its runs; " +
		"the tables above show the medians, with the lowest and highest run beside them.\n\n")
	b.WriteString("| scenario | system | runs | spread |\n|---|---|--:|--:|\n")
	for _, w := range rows {
		fmt.Fprintf(b, "| %s | %s | %d | %.0f %% |\n", w.Scenario, w.System, w.Runs, 100*w.Spread)
	}
}
