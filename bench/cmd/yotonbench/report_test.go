package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWithRange(t *testing.T) {
	tests := []struct {
		name  string
		med   float64
		u     unit
		r     [2]float64
		known bool
		want  string
	}{
		{"latency", 101.2, latencyUnit(101.2), [2]float64{95.24, 102.1}, true, "101.2 µs (95.2–102.1)"},
		{"latency in ms", 1280, latencyUnit(1280), [2]float64{1240, 1440}, true, "1.28 ms (1.24–1.44)"},
		{"millions", 2029975, rateUnit(2029975), [2]float64{1.84e6, 2.113e6}, true, "2.03 M (1.84–2.11)"},
		{"thousands", 52821, rateUnit(52821), [2]float64{48200, 61600}, true, "52.8 k (48.2–61.6)"},
		{"below 10,000", 8341, rateUnit(8341), [2]float64{7543, 8514}, true, "8,341 (7,543–8,514)"},
		{"one run", 8341, rateUnit(8341), [2]float64{}, false, "8,341"},
		{"runs agree in the digits shown", 6.2, rateUnit(6.2), [2]float64{6.1, 6.4}, true, "6"},
		{"large whole numbers", 3047.55, sigUnit(3047.55, ""), [2]float64{2898.06, 3304.32}, true, "3,048 (2,898–3,304)"},
		{"below 1", 0.87, sigUnit(0.87, ""), [2]float64{0.82, 0.93}, true, "0.87 (0.82–0.93)"},
		{"KiB", 2355, rssUnit, [2]float64{2304, 2458}, true, "2.3 KiB (2.2–2.4)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withRange(tt.med, tt.u, tt.r, tt.known); got != tt.want {
				t.Errorf("withRange(%v, %+v, %v) = %q, want %q", tt.med, tt.u, tt.r, got, tt.want)
			}
		})
	}
}

func TestPercent(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0 %", 0.004: "< 0.01 %", 0.05: "0.05 %", 0.4: "0.4 %", 49.6: "50 %", 99.7: "99.7 %", 99.95: "> 99.9 %", 100: "100 %",
	} {
		if got := percent(in); got != want {
			t.Errorf("percent(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestStep125(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		up   bool
		want float64
	}{{30.5, false, 20}, {30.5, true, 50}, {1280, true, 2000}, {100, false, 100}, {100, true, 100}, {7, false, 5}} {
		if got := step125(tt.v, tt.up); got != tt.want {
			t.Errorf("step125(%v, %v) = %v, want %v", tt.v, tt.up, got, tt.want)
		}
	}
	ticks := logTicks125(20, 2000)
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got, want := strings.Join(labels, ","), "20 µs,50 µs,100 µs,200 µs,500 µs,1 ms,2 ms"; got != want {
		t.Errorf("logTicks125(20, 2000) labels %s, want %s", got, want)
	}
}

// pubsubRecords makes the runs of one pub/sub cell: msgs/s of each run,
// 1,000 messages of size bytes each, lost when arrived < 1,000.
func pubsubRecords(group, scenario, system string, size int, arrived []int64, rates ...float64) []record {
	var out []record
	for i, rate := range rates {
		n := int64(1000)
		if arrived != nil {
			n = arrived[i]
		}
		r := record{Group: group, Scenario: scenario, System: system, Size: size, Subs: 1, Run: i + 1,
			Expected: 1000, Count: n, Bytes: n * int64(size), Seconds: float64(n) / rate, PubCPU: 0.1, SubCPU: 0.1,
			Lost: n != 1000}
		r.derive()
		out = append(out, r)
	}
	return out
}

// testReport is a report of made-up runs: pub/sub 64 B of Go yoton,
// libzmq and raw TCP (3 runs each), and, with defaults, scenario 6 where
// libzmq loses messages in two runs of three.
func testReport(defaults bool) *report {
	rep := &report{Runs: 3, Target: "2s", Outstanding: 64, Machine: machine{Date: "2026-01-02T03:04:05Z", CPU: "Test CPU", Cores: 2, Go: "go1.x"}}
	for _, k := range []string{sysGoyoton, sysLibzmq, sysTCPAlloc} {
		rep.Systems = append(rep.Systems, systemsByKey[k].info(64))
	}
	goy, zmq, raw := systemsByKey[sysGoyoton].name, systemsByKey[sysLibzmq].name, systemsByKey[sysTCPAlloc].name
	rep.Records = slices.Concat(
		pubsubRecords(grpPubSub, "pub/sub 64 B", goy, 64, nil, 1.9e6, 2.0e6, 2.1e6),
		pubsubRecords(grpPubSub, "pub/sub 64 B", zmq, 64, nil, 1.0e6, 1.1e6, 1.2e6),
		pubsubRecords(grpPubSub, "pub/sub 64 B", raw, 64, nil, 5e6, 5e6, 5e6),
	)
	if defaults {
		rep.Records = slices.Concat(rep.Records,
			pubsubRecords(grpDefaults, "pub/sub 64 B, library defaults", goy, 64, []int64{1000, 1000, 1000}, 2e6, 2e6, 2e6),
			pubsubRecords(grpDefaults, "pub/sub 64 B, library defaults", zmq, 64, []int64{1000, 400, 600}, 1e6, 1e6, 1e6),
		)
	}
	rep.summarize()
	return rep
}

// TestReportRanges: every median in the tables has the lowest and the
// highest run beside it, in RESULTS.md and in the README's summary.
func TestReportRanges(t *testing.T) {
	rep := testReport(false)
	md, readme := rep.markdown(), rep.readmeSummary()
	for _, want := range []string{
		"| 64 B | Go yoton | 1,000 | 3 | 2.00 M (1.90–2.10) |",
		"| 64 B | libzmq | 1,000 | 3 | 1.10 M (1.00–1.20) |",
		"| 64 B | raw TCP (alloc) | 1,000 | 3 | 5.00 M | 320 |", // the runs agree: no range
	} {
		if !strings.Contains(md, want) {
			t.Errorf("RESULTS.md has no %q:\n%s", want, md)
		}
	}
	if want := "| pub/sub 64 B (msgs/s) | 2.00 M (1.90–2.10) | – | 1.10 M (1.00–1.20) | – | – | 5.00 M | 1.82× | – |"; !strings.Contains(readme, want) {
		t.Errorf("README summary has no %q:\n%s", want, readme)
	}
	w := findIn(rep.rowsOf(grpPubSub), "libzmq")
	if r := w.Ranges[figMsgs]; r[0] != 1.0e6 || r[1] != 1.2e6 {
		t.Errorf("libzmq msgs/s range %v, want [1e6 1.2e6]", r)
	}
}

// TestReportSettingsAndDefaults: the settings of every system are in both
// pages; scenario 6's losses are figures (not notes, not left out), and a
// results.json without scenario 6 says so instead of inventing numbers.
func TestReportSettingsAndDefaults(t *testing.T) {
	without := testReport(false)
	for name, page := range map[string]string{"RESULTS.md": without.markdown(), "README": without.readmeSummary()} {
		for _, want := range []string{
			"| Go yoton | `reactor.WithQueue(1<<20, DiscardNew)` on every context (queues of 2^20 packages); replier `channels.WithWindow(64)` in event mode | queues of 10,000 packages that drop the oldest",
			"| libzmq | SNDHWM = RCVHWM = 0 (no limit)",
			"| SNDHWM = RCVHWM = 1,000 messages (a PUB drops what does not fit) | not measured in this results.json |",
			"| raw TCP (alloc) | 64 KiB bufio reader and writer; no queue that could drop | – (no library) | – |",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s has no %q:\n%s", name, want, page)
			}
		}
	}
	if !strings.Contains(without.markdown(), "## 6. Pub/sub with each library's defaults\n\nNot measured in this results.json") {
		t.Errorf("RESULTS.md does not say scenario 6 was not measured:\n%s", without.markdown())
	}

	with := testReport(true)
	md, readme := with.markdown(), with.readmeSummary()
	for name, page := range map[string]string{"RESULTS.md": md, "README": readme} {
		for _, want := range []string{
			"pub/sub 64 B with the defaults: lost |",
			"| none of 1,000 |",
			"| 400 of 1,000 (40 %, runs 0 %–60 %; 2 of 3 runs lost some) |",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("%s has no %q:\n%s", name, want, page)
			}
		}
		if strings.Contains(page, "not measured in this results.json") {
			t.Errorf("%s says not measured although scenario 6 ran:\n%s", name, page)
		}
	}
	if want := "| libzmq | SNDHWM = RCVHWM = 1,000 messages (a PUB drops what does not fit) | 1,000 | 3 | 600 (400–1,000) | 400 of 1,000"; !strings.Contains(md, want) {
		t.Errorf("RESULTS.md table 6 has no %q:\n%s", want, md)
	}
	if strings.Contains(md, "LOST") || !strings.Contains(md, "With the benchmark's settings, every run of every figure delivered every message.") {
		t.Errorf("scenario 6's losses are reported as lost runs:\n%s", md)
	}
	if !strings.Contains(readme, "with the settings below no run lost a message") {
		t.Errorf("README summary counts scenario 6's losses as lost runs:\n%s", readme)
	}
}

// TestReadmeBlock: -readme replaces the generated block and nothing else,
// and refuses a README without the markers.
func TestReadmeBlock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "README.md")
	before, after := "# x\n\n## Benchmarks\n\n", "\n\nRerun it.\n"
	if err := os.WriteFile(path, []byte(before+readmeBegin+" old -->\nold table\n"+readmeEnd+after), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := testReport(true)
	for range 2 { // idempotent
		if err := rep.updateReadme(path); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := before + rep.readmeSummary() + after; string(got) != want {
		t.Errorf("README after -readme:\n%s\nwant:\n%s", got, want)
	}
	if err := os.WriteFile(path, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkReadme(path); err == nil {
		t.Error("checkReadme accepted a README without markers")
	}
}

// TestCommittedPages: bench/RESULTS.md and the README's benchmark summary
// are what the report generator makes of the committed results.json, and
// the pages state one rerun command and duration.
func TestCommittedPages(t *testing.T) {
	rep, err := loadReport("../../results.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.writePlots(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	results, err := os.ReadFile("../../RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	const regen = "regenerate with: cd bench && " + renderFrom
	if string(results) != rep.markdown() {
		t.Errorf("bench/RESULTS.md is not what results.json renders to; %s", regen)
	}
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	i, j, err := readmeBlock(string(readme))
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if got := string(readme[i:j]); got != rep.readmeSummary() {
		t.Errorf("README.md's benchmark summary is not what results.json renders to; %s", regen)
	}
	benchReadme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The top-level README's Benchmarks section (other sections are not
	// the benchmark's).
	section := string(readme)
	if k := strings.Index(section, "\n## Benchmarks\n"); k >= 0 {
		section = section[k+1:]
		if end := strings.Index(section, "\n## "); end >= 0 {
			section = section[:end]
		}
	} else {
		t.Error("README.md has no Benchmarks section")
	}
	for name, page := range map[string]string{"README.md (Benchmarks)": section, "bench/README.md": string(benchReadme), "bench/RESULTS.md": string(results)} {
		for _, want := range []string{rerunCommand, rerunTime, "`-quick`", quickTime} {
			if !strings.Contains(page, want) {
				t.Errorf("%s does not state %q", name, want)
			}
		}
		for _, stale := range []string{"about 15 minutes", "about 70 s", "takes about one", "Targets (issue", "issue 3", "issue 10"} {
			if strings.Contains(page, stale) {
				t.Errorf("%s still says %q", name, stale)
			}
		}
	}
}
