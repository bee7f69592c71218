package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for yotonbench: the runner
// re-executes os.Executable in a role mode, with childEnv set.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole runner with tiny counts: Go→Go always, and
// Python→Python when Python yoton is installed (its rows are skipped
// otherwise).
func TestSmoke(t *testing.T) {
	_, pyErr := pythonPath("")
	if pyErr != nil {
		t.Logf("Python rows skipped: %v", pyErr)
	}
	dir := t.TempDir()
	md, js := filepath.Join(dir, "RESULTS.md"), filepath.Join(dir, "results.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{
		"-runs", "1", "-sizes", "64,1MiB", "-counts", "200,5",
		"-out", md, "-json", js, "-timeout", "50s",
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
	if string(written) != table {
		t.Errorf("RESULTS.md differs from the printed table")
	}
	if strings.Contains(table, "LOST") {
		t.Errorf("a run lost messages:\n%s", table)
	}
	want := []string{"| pub/sub 64 B | Go→Go | ", "| pub/sub 1 MiB | Go→Go | "}
	if pyErr == nil {
		want = append(want, "| pub/sub 64 B | Python→Python | ", "| pub/sub 1 MiB | Python→Python | ")
	}
	for _, w := range want {
		if !strings.Contains(table, w) {
			t.Errorf("table has no row %q:\n%s", w, table)
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
	if len(rep.Records) != len(want) {
		t.Errorf("results.json has %d runs, want %d", len(rep.Records), len(want))
	}
	for _, r := range rep.Records {
		if r.Lost || r.Count != r.Expected || r.Bytes != r.Expected*int64(r.Size) {
			t.Errorf("run %+v: not every message arrived", r)
		}
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
