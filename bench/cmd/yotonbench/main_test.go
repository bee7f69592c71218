package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for yotonbench: the runner
// re-executes os.Executable in a role mode, with childEnv set.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// smokeSystems returns the systems the smoke test runs: every pure-Go
// one; Python yoton and libzmq when their dependencies are here, and
// always under CI=true (where the runner must find Python yoton and
// installs libzmq itself, failing the test if it cannot).
func smokeSystems(t *testing.T) []string {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	systems := []string{sysGoyoton, sysGozmq, sysMangos, sysTCP, sysTCPAlloc}
	if _, err := pythonPath(""); err == nil || ci {
		systems = append(systems, sysPython)
	} else {
		t.Logf("Python yoton skipped: %v", err)
	}
	if libzmqLinked || haveLibzmq() || ci {
		systems = append(systems, sysLibzmq)
	} else {
		t.Log("libzmq skipped: not installed (bench/scripts/install-deps.sh installs it)")
	}
	return systems
}

// TestSmoke runs the whole runner with tiny counts over every scenario.
func TestSmoke(t *testing.T) {
	systems := smokeSystems(t)
	dir := t.TempDir()
	md, js := filepath.Join(dir, "RESULTS.md"), filepath.Join(dir, "results.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{
		"-runs", "1", "-sizes", "64,1MiB", "-counts", "200,5",
		"-fanout-subs", "3", "-fanout-count", "50",
		"-target", "200ms", "-conns", "40", "-scale-procs", "2", "-rounds", "2",
		"-systems", strings.Join(systems, ","), "-require",
		"-out", md, "-json", js, "-timeout", "60s",
	}, strings.NewReader(""), &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	if code != 0 {
		t.Fatalf("run exited with %d", code)
	}

	table := stdout.String()
	written, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"LOST", "FAILED", "not measured in this results.json"} {
		if strings.Contains(string(written), bad) {
			t.Errorf("RESULTS.md says %s:\n%s", bad, written)
		}
	}
	has := func(system string) bool { return strings.Contains(strings.Join(systems, ","), system) }
	var want []string
	for _, key := range systems {
		name := systemsByKey[key].name
		want = append(want, "| 64 B | "+name+" | ", "| 1 MiB | "+name+" | ")
	}
	want = append(want, "| 1 KiB | Go yoton | 150 | 1 |", // fan-out: 3 × 50 deliveries
		"| 40 | Go yoton | 1 |", "| 40 | raw TCP (alloc) | 1 |",
		"| raw TCP (alloc) | ")
	if has(sysPython) {
		want = append(want, "| 64 B | Go yoton → Python yoton | ", "| 1 MiB | Python yoton → Go yoton | ",
			"| Python yoton | ")
	}
	if has(sysLibzmq) {
		want = append(want, "| 40 | libzmq | 1 |", "| libzmq | ")
	}
	// Scenario 6: every system with library defaults sent 200 messages
	// of 64 B with them (raw TCP has none and is left out).
	want = append(want, "## 6. Pub/sub with each library's defaults",
		"| Go yoton | queues of 10,000 packages that drop the oldest", "| mangos | write and read queues of 128 messages")
	if !regexp.MustCompile(`\| raw TCP \(alloc\) \| [^|]+ \| – \(no library\) \| – \|`).MatchString(table) {
		t.Errorf("settings table has no raw TCP row without defaults:\n%s", table)
	}
	if regexp.MustCompile(`\| raw TCP \(alloc\) \| [^|]+ \| 200 \|`).MatchString(table) {
		t.Errorf("raw TCP ran the defaults scenario:\n%s", table)
	}
	for _, w := range want {
		if !strings.Contains(table, w) {
			t.Errorf("table has no row %q:\n%s", w, table)
		}
	}
	// Go yoton's req/rep row carries a measured latency.
	if !regexp.MustCompile(`\| Go yoton \| [0-9.]+ (µs|ms) \|`).MatchString(table) {
		t.Errorf("no req/rep latency row for Go yoton:\n%s", table)
	}
	// Req/rep between Go and Python yoton: calls/s at 1 and at 64 in flight.
	if has(sysPython) {
		for _, pair := range []string{"Go yoton → Python yoton", "Python yoton → Go yoton"} {
			re := regexp.MustCompile(`\| ` + pair + ` \| 1, 1 \| [0-9.,]+( k)? \| [0-9.,]+( k)? \|`)
			if !re.MatchString(table) {
				t.Errorf("no req/rep interop row for %s:\n%s", pair, table)
			}
		}
	}
	for _, png := range []string{"throughput-mbps.png", "throughput-msgs.png", "latency.png", "calls.png"} {
		if fi, err := os.Stat(filepath.Join(dir, png)); err != nil || fi.Size() == 0 {
			t.Errorf("plot %s: %v", png, err)
		}
		if !strings.Contains(string(written), "("+png+")") {
			t.Errorf("RESULTS.md does not embed %s", png)
		}
	}

	var rep report
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	defaultsRuns := 0
	for _, r := range rep.Records {
		if r.Group == grpDefaults && !r.Pilot {
			// With the defaults a run may lose messages (that is its
			// figure), but it must not fail, and it sent what scenario 1
			// sent at 64 B (-counts).
			defaultsRuns++
			if r.Error != "" || r.Expected != 200 || r.Count > r.Expected {
				t.Errorf("defaults run %s: error %q, %d of %d arrived", r.System, r.Error, r.Count, r.Expected)
			}
			continue
		}
		if r.Error != "" || r.Lost {
			t.Errorf("run %s / %s: error %q, lost %v", r.Scenario, r.System, r.Error, r.Lost)
		}
		if (r.Group == grpPubSub || r.Group == grpInterop) && r.Bytes != r.Expected*int64(r.Size) {
			t.Errorf("run %s / %s: %d bytes arrived, want %d", r.Scenario, r.System, r.Bytes, r.Expected*int64(r.Size))
		}
	}

	if want := len(systems) - 2; defaultsRuns != want { // all but the two raw TCP
		t.Errorf("%d defaults runs, want %d", defaultsRuns, want)
	}

	var cmp bytes.Buffer
	if err := compareFiles(js+","+js, &cmp); err != nil {
		t.Fatalf("compare: %v", err)
	}
	if !strings.Contains(cmp.String(), "| 1.00 |") {
		t.Errorf("comparing a file with itself shows no 1.00:\n%s", cmp.String())
	}
}

func TestParseSizes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []int
		bad  bool
	}{
		{name: "plain", in: "64,1048576", want: []int{64, 1 << 20}},
		{name: "suffixes", in: "64, 4KiB,1MiB", want: []int{64, 4 << 10, 1 << 20}},
		{name: "zero", in: "0", bad: true},
		{name: "junk", in: "big", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSizes(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("parseSizes(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("parseSizes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("parseSizes(%q) = %v, want %v", tt.in, got, tt.want)
				}
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{name: "empty", in: nil, want: 0},
		{name: "odd", in: []float64{3, 1, 2}, want: 2},
		{name: "even", in: []float64{4, 1, 3, 2}, want: 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := median(tt.in); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	durationOf := func(i int) time.Duration { return time.Duration(i) * time.Microsecond }
	var s []time.Duration
	for i := 1; i <= 1000; i++ {
		s = append(s, durationOf(i))
	}
	tests := []struct {
		p    float64
		want int
	}{{0.5, 500}, {0.99, 990}, {0.999, 999}, {1, 1000}}
	for _, tt := range tests {
		if got := percentile(s, tt.p); got != durationOf(tt.want) {
			t.Errorf("percentile(%v) = %v, want %v", tt.p, got, durationOf(tt.want))
		}
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}}
	for _, tt := range tests {
		if got := thousands(tt.in); got != tt.want {
			t.Errorf("thousands(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReqRepReport renders section 3 and calls.png from made-up records:
// the req/rep interop table, the fast-path line and the bar plot (on a
// log axis: the figures span three orders of magnitude).
func TestReqRepReport(t *testing.T) {
	goy, py, tcp := systemsByKey[sysGoyoton].name, systemsByKey[sysPython].name, systemsByKey[sysTCPAlloc].name
	rec := func(group, scenario, system string, inflight int, calls int64, all int64, fast uint64) record {
		r := record{Group: group, Scenario: scenario, System: system, Size: 64, Run: 1, InFlight: inflight,
			Calls: calls, Count: calls, Seconds: 1, AllCalls: all, FastCalls: fast, P50us: 50, P99us: 90, P999us: 120}
		r.derive()
		return r
	}
	rep := &report{Outstanding: 64, Systems: []systemInfo{{Key: sysGoyoton, Name: goy}, {Key: sysPython, Name: py}}}
	rep.Records = []record{
		rec(grpLatency, "req/rep 64 B, 1 in flight", goy, 1, 20000, 21000, 20990),
		rec(grpLatency, "req/rep 64 B, 1 in flight", py, 1, 90, 0, 0),
		rec(grpCalls, "req/rep 64 B, 64 in flight", goy, 64, 150000, 160000, 160000),
		rec(grpCalls, "req/rep 64 B, 64 in flight", py, 64, 800, 0, 0),
		rec(grpCalls, "req/rep 64 B, 64 in flight", tcp, 64, 900000, 0, 0),
		rec(grpRRInterop, "req/rep interop 64 B, 1 in flight", goy+" → "+py, 1, 95, 100, 0),
		rec(grpRRInterop, "req/rep interop 64 B, 1 in flight", py+" → "+goy, 1, 97, 0, 0),
		rec(grpRRInterop, "req/rep interop 64 B, 64 in flight", goy+" → "+py, 64, 700, 800, 0),
		rec(grpRRInterop, "req/rep interop 64 B, 64 in flight", py+" → "+goy, 64, 1200, 0, 0),
	}
	rep.summarize()
	dir := t.TempDir()
	if err := rep.writePlots(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "calls.png")); err != nil || fi.Size() == 0 {
		t.Fatalf("calls.png: %v", err)
	}
	md := rep.markdown()
	for _, want := range []string{
		"### Req/rep between Go and Python yoton",
		"| requester → replier | runs | calls/s, 1 in flight | calls/s, 64 in flight |",
		"| Go yoton → Python yoton | 1, 1 | 95 | 700 |",
		"| Python yoton → Go yoton | 1, 1 | 97 | 1,200 |",
		"| Go yoton | 50.0 µs | 90.0 µs | 120.0 µs | 20,000 | 150 k |",
		"Go yoton, 64 in flight: 100.0 %",
		"Go yoton → Python yoton, 64 in flight: 0.0 %",
		"(latency.png)\n\n![Req/rep calls per second, 64 in flight](calls.png)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report has no %q:\n%s", want, md)
		}
	}
}
