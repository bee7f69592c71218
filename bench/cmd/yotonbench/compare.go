package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// compareFiles reads two results.json files ("a.json,b.json") and prints,
// for every figure present in both, the two values and the change: the
// headline figure of each row (msgs/s, p50, calls/s, fan-out time) and,
// where they apply, MB/s, CPU per million messages and memory per
// connection.
func compareFiles(arg string, w io.Writer) error {
	names := strings.Split(arg, ",")
	if len(names) != 2 {
		return fmt.Errorf("-compare wants two files, a.json,b.json")
	}
	var reps [2]report
	for i, n := range names {
		b, err := os.ReadFile(strings.TrimSpace(n))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &reps[i]); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	a, b := &reps[0], &reps[1]
	fmt.Fprintf(w, "# %s → %s\n\n", names[0], names[1])
	fmt.Fprintf(w, "- a: %s, %s, Go yoton %s\n- b: %s, %s, Go yoton %s\n\n",
		a.Machine.Date, a.Machine.CPU, a.Machine.GoYoton, b.Machine.Date, b.Machine.CPU, b.Machine.GoYoton)
	fmt.Fprintln(w, "| scenario | system | figure | a | b | b ÷ a | better? |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|---|")
	type metric struct {
		name   string
		more   bool // more is better
		get    func(*row) float64
		groups string
	}
	metrics := []metric{
		{"msgs/s", true, func(w *row) float64 { return w.MsgsPerSec }, "pubsub fanout interop"},
		{"MB/s", true, func(w *row) float64 { return w.MBPerSec }, "pubsub fanout interop"},
		{"CPU s / 1M msgs", false, func(w *row) float64 { return w.CPUPerMillion }, "pubsub fanout interop"},
		{"p50 µs", false, func(w *row) float64 { return w.P50us }, "latency"},
		{"p99 µs", false, func(w *row) float64 { return w.P99us }, "latency"},
		{"p99.9 µs", false, func(w *row) float64 { return w.P999us }, "latency"},
		{"calls/s", true, func(w *row) float64 { return w.CallsPerSec }, "calls rr-interop"},
		{"setup s", false, func(w *row) float64 { return w.Setup }, "scale"},
		{"RSS B / conn", false, func(w *row) float64 { return w.BytesPerConn }, "scale"},
		{"fan-out ms", false, func(w *row) float64 { return w.FanoutMs }, "scale"},
		{"received with the defaults", true, func(w *row) float64 { return w.Received }, "defaults"},
	}
	matched := 0
	for i := range a.Rows {
		ra := &a.Rows[i]
		rb := findRow(b, ra.Scenario, ra.System)
		if rb == nil {
			continue
		}
		matched++
		if st := ra.status() + rb.status(); st != "" {
			fmt.Fprintf(w, "| %s | %s | | %s | %s | | |\n", ra.Scenario, ra.System, orValue(ra.status()), orValue(rb.status()))
			continue
		}
		for _, m := range metrics {
			if !slices.Contains(strings.Fields(m.groups), ra.Group) {
				continue
			}
			va, vb := m.get(ra), m.get(rb)
			if va <= 0 || vb <= 0 {
				continue
			}
			x := vb / va
			better := ""
			switch {
			case x > 1.1 && m.more, x < 1/1.1 && !m.more:
				better = "better"
			case x < 1/1.1 && m.more, x > 1.1 && !m.more:
				better = "**worse**"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2f | %s |\n", ra.Scenario, ra.System, m.name, fmtValue(va), fmtValue(vb), x, better)
		}
	}
	if matched == 0 {
		return fmt.Errorf("no figure in both files")
	}
	fmt.Fprintln(w, "\nChanges within ±10 % are left unmarked: on a shared 2-core machine they are noise.")
	return nil
}

func findRow(rep *report, scenario, system string) *row {
	for i := range rep.Rows {
		if rep.Rows[i].Scenario == scenario && rep.Rows[i].System == system {
			return &rep.Rows[i]
		}
	}
	return nil
}

func orValue(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

func fmtValue(v float64) string {
	if v >= 1000 {
		return thousands(v)
	}
	return fmt.Sprintf("%.3g", v)
}
