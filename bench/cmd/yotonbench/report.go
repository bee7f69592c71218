package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// record is one run of one system on one scenario.
type record struct {
	System   string `json:"system"`
	Scenario string `json:"scenario"`
	Size     int    `json:"size"`
	Run      int    `json:"run"`
	Pilot    bool   `json:"calibration,omitempty"` // sizing run, not averaged
	Expected int64  `json:"expected"`
	Count    int64  `json:"count"` // messages that arrived
	Bytes    int64  `json:"bytes"`
	// Seconds is the subscriber's time from the first message to the last.
	Seconds float64 `json:"seconds"`
	// SubUser and SubSys are the subscriber's own getrusage figures;
	// PubCPU and SubCPU are user+sys of each child as its parent saw it.
	SubUser float64 `json:"sub_cpu_user"`
	SubSys  float64 `json:"sub_cpu_sys"`
	PubCPU  float64 `json:"pub_cpu"`
	SubCPU  float64 `json:"sub_cpu"`
	Wall    float64 `json:"wall_seconds"` // whole run, process start-up included
	Lost    bool    `json:"lost"`         // fewer messages arrived than were sent

	MsgsPerSec    float64 `json:"msgs_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	CPUPerMillion float64 `json:"cpu_s_per_1m_msgs"`
}

func (r *record) derive() {
	if r.Seconds > 0 {
		r.MsgsPerSec = float64(r.Count) / r.Seconds
		r.MBPerSec = float64(r.Bytes) / 1e6 / r.Seconds
	}
	if r.Count > 0 {
		r.CPUPerMillion = (r.PubCPU + r.SubCPU) / float64(r.Count) * 1e6
	}
}

// row is one line of the table: the medians of a system's runs.
type row struct {
	Scenario      string  `json:"scenario"`
	System        string  `json:"system"`
	Count         int64   `json:"count_per_run"`
	Runs          int     `json:"runs"`      // runs averaged (not LOST)
	LostRuns      int     `json:"lost_runs"` // runs that lost messages
	MsgsPerSec    float64 `json:"msgs_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	CPUPerMillion float64 `json:"cpu_s_per_1m_msgs"`
	Ratio         float64 `json:"go_over_python,omitempty"` // msgs/s, on the Go row
}

type report struct {
	Machine machine  `json:"machine"`
	Runs    int      `json:"runs_per_figure"`
	GoRecv  string   `json:"go_recv_mode"`
	Note    string   `json:"note,omitempty"`
	Rows    []row    `json:"rows"`
	Records []record `json:"records"`
}

// summarize computes the rows: medians over the runs that lost nothing.
func (rep *report) summarize(systems []system) {
	var scenarios []string
	for _, r := range rep.Records {
		if !slices.Contains(scenarios, r.Scenario) {
			scenarios = append(scenarios, r.Scenario)
		}
	}
	for _, sc := range scenarios {
		first := len(rep.Rows)
		for _, s := range systems {
			w := row{Scenario: sc, System: s.name}
			var mps, mbps, cpu []float64
			for _, r := range rep.Records {
				if r.Scenario != sc || r.System != s.name || r.Pilot {
					continue
				}
				w.Count = r.Expected
				if r.Lost {
					w.LostRuns++
					continue
				}
				w.Runs++
				mps = append(mps, r.MsgsPerSec)
				mbps = append(mbps, r.MBPerSec)
				cpu = append(cpu, r.CPUPerMillion)
			}
			w.MsgsPerSec, w.MBPerSec, w.CPUPerMillion = median(mps), median(mbps), median(cpu)
			rep.Rows = append(rep.Rows, w)
		}
		var goRate, pyRate float64
		for _, w := range rep.Rows[first:] {
			switch w.System {
			case "Go→Go":
				goRate = w.MsgsPerSec
			case "Python→Python":
				pyRate = w.MsgsPerSec
			}
		}
		if goRate > 0 && pyRate > 0 {
			for i := first; i < len(rep.Rows); i++ {
				if rep.Rows[i].System == "Go→Go" {
					rep.Rows[i].Ratio = goRate / pyRate
				}
			}
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (rep *report) markdown() string {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "# yoton pub/sub throughput\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", m.Date)
	fmt.Fprintf(&b, "- Machine: %s, %d cores, Linux %s\n", m.CPU, m.Cores, m.Kernel)
	fmt.Fprintf(&b, "- Go: %s, goyoton %s (subscriber mode: %s)\n", m.Go, m.GoYoton, rep.GoRecv)
	if m.Python != "" {
		fmt.Fprintf(&b, "- Python: %s, yoton %s\n", m.Python, m.Yoton)
	} else {
		fmt.Fprintf(&b, "- Python: not measured (run scripts/fetch-pyzo.sh)\n")
	}
	fmt.Fprintf(&b, "- Method: publisher and subscriber are separate processes on 127.0.0.1; "+
		"time is first to last message at the subscriber; each figure is the median of %d run(s).\n", rep.Runs)
	if rep.Note != "" {
		fmt.Fprintf(&b, "- Note: %s\n", rep.Note)
	}
	b.WriteString("\n")

	b.WriteString("| scenario | system | msgs/s | MB/s | CPU s per 1M msgs | Go/Python |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|\n")
	for _, w := range rep.Rows {
		if w.Runs == 0 {
			fmt.Fprintf(&b, "| %s | %s | LOST | LOST | LOST | |\n", w.Scenario, w.System)
			continue
		}
		if w.MsgsPerSec == 0 { // every message came in one batch
			fmt.Fprintf(&b, "| %s | %s | n/a | n/a | %.2f | |\n", w.Scenario, w.System, w.CPUPerMillion)
			continue
		}
		ratio := ""
		if w.Ratio > 0 {
			ratio = fmt.Sprintf("%.1f×", w.Ratio)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", w.Scenario, w.System,
			thousands(w.MsgsPerSec), fmt.Sprintf("%.1f", w.MBPerSec), fmt.Sprintf("%.2f", w.CPUPerMillion), ratio)
	}
	b.WriteString("\n")
	var notes []string
	for _, w := range rep.Rows {
		n := fmt.Sprintf("%s %s: %s msgs per run", w.System, w.Scenario, thousands(float64(w.Count)))
		if w.LostRuns > 0 {
			n += fmt.Sprintf(", %d of %d runs LOST messages (not averaged)", w.LostRuns, w.LostRuns+w.Runs)
		}
		notes = append(notes, n)
	}
	b.WriteString("Messages per run: " + strings.Join(notes, "; ") + ".\n")
	return b.String()
}

func (rep *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// thousands formats a non-negative number with comma separators.
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
