package main

import (
	"fmt"
)

// record is one run of one system in one scenario (results.json keeps
// every one, calibration runs included).
type record struct {
	Group    string `json:"group"`    // pubsub, fanout, latency, calls, scale, interop, rr-interop
	Scenario string `json:"scenario"` // "pub/sub 64 B"
	System   string `json:"system"`
	Size     int    `json:"size,omitempty"`
	Subs     int    `json:"subs,omitempty"`
	Conns    int    `json:"conns,omitempty"`
	InFlight int    `json:"in_flight,omitempty"` // req/rep: calls the requester kept in flight
	Run      int    `json:"run"`
	Pilot    bool   `json:"calibration,omitempty"` // sizing run, not averaged
	Pending  string `json:"pending,omitempty"`     // not available yet: why
	Error    string `json:"error,omitempty"`       // the run failed

	// Expected and Count: messages sent and arrived (fan-out: deliveries,
	// one per subscriber; scale: rounds × connections); calls for req/rep.
	Expected int64 `json:"expected,omitempty"`
	Count    int64 `json:"count"`
	Bytes    int64 `json:"bytes,omitempty"`
	Lost     bool  `json:"lost"` // fewer arrived than were sent: not averaged
	// Seconds: pub/sub, from the first message to the last at the
	// subscriber; req/rep, the measured part of the run.
	Seconds float64 `json:"seconds,omitempty"`
	// PubCPU and SubCPU: user+sys CPU seconds of each process for its
	// whole life (req/rep: requester and replier).
	PubCPU float64 `json:"pub_cpu,omitempty"`
	SubCPU float64 `json:"sub_cpu,omitempty"`
	Wall   float64 `json:"wall_seconds"` // the whole run, process start-up included

	MsgsPerSec    float64 `json:"msgs_per_sec,omitempty"`
	MBPerSec      float64 `json:"mb_per_sec,omitempty"`
	CPUPerMillion float64 `json:"cpu_s_per_1m_msgs,omitempty"`

	Calls       int64   `json:"calls,omitempty"`
	CallsPerSec float64 `json:"calls_per_sec,omitempty"`
	P50us       float64 `json:"p50_us,omitempty"`
	P99us       float64 `json:"p99_us,omitempty"`
	P999us      float64 `json:"p999_us,omitempty"`
	MeanUs      float64 `json:"mean_us,omitempty"`
	// Go yoton requester: calls made (warm-up included) and how many took
	// the Go-to-Go fast path; FastShare = FastCalls / AllCalls.
	AllCalls  int64   `json:"all_calls,omitempty"`
	FastCalls uint64  `json:"fast_calls,omitempty"`
	FastShare float64 `json:"fast_share,omitempty"`

	Setup        float64   `json:"setup_seconds,omitempty"`
	RSSBefore    int64     `json:"rss_before,omitempty"`
	RSSAfter     int64     `json:"rss_after,omitempty"`
	BytesPerConn float64   `json:"rss_bytes_per_conn,omitempty"`
	RoundsMs     []float64 `json:"fanout_rounds_ms,omitempty"`
	FanoutMs     float64   `json:"fanout_ms,omitempty"` // median round
}

// derive computes the rates from the raw figures.
func (r *record) derive() {
	if r.Seconds > 0 && (r.Group == grpPubSub || r.Group == grpFanout || r.Group == grpInterop || r.Group == grpDefaults) {
		r.MsgsPerSec = float64(r.Count) / r.Seconds
		r.MBPerSec = float64(r.Bytes) / 1e6 / r.Seconds
		if r.Count > 0 {
			r.CPUPerMillion = (r.PubCPU + r.SubCPU) / float64(r.Count) * 1e6
		}
	}
	if r.Calls > 0 && r.Seconds > 0 {
		r.CallsPerSec = float64(r.Calls) / r.Seconds
	}
	if r.AllCalls > 0 {
		r.FastShare = float64(r.FastCalls) / float64(r.AllCalls)
	}
	if r.Conns > 0 {
		r.BytesPerConn = float64(r.RSSAfter-r.RSSBefore) / float64(r.Conns)
		r.FanoutMs = median(r.RoundsMs)
	}
}

// ok reports whether the run counts towards the figures.
func (r *record) ok() bool {
	return !r.Pilot && r.Pending == "" && r.Error == "" && !r.Lost
}

// headline is the run's main figure, for the progress line.
func (r *record) headline() string {
	fast := ""
	if r.AllCalls > 0 {
		fast = fmt.Sprintf("  fast path %.0f %%", 100*r.FastShare)
	}
	switch r.Group {
	case grpLatency:
		return fmt.Sprintf("%8d calls  p50 %s  p99 %s  p99.9 %s%s", r.Calls, micros(r.P50us), micros(r.P99us), micros(r.P999us), fast)
	case grpCalls, grpRRInterop:
		return fmt.Sprintf("%8d calls  %s calls/s, %d in flight%s", r.Calls, thousands(r.CallsPerSec), r.InFlight, fast)
	case grpScale:
		return fmt.Sprintf("setup %.2f s  %s per conn  fan-out %.2f ms  (%d of %d arrived)",
			r.Setup, kib(r.BytesPerConn), r.FanoutMs, r.Count, r.Expected)
	}
	return fmt.Sprintf("%9d msgs %7.3f s %12s msgs/s %9.1f MB/s", r.Count, r.Seconds, thousands(r.MsgsPerSec), r.MBPerSec)
}

// micros formats microseconds for a table: "35.2 µs", "1.25 ms", "2.1 s".
func micros(us float64) string {
	switch {
	case us <= 0:
		return "–"
	case us < 1000:
		return fmt.Sprintf("%.1f µs", us)
	case us < 1e6:
		return fmt.Sprintf("%.2f ms", us/1e3)
	}
	return fmt.Sprintf("%.2f s", us/1e6)
}

func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }

// thousands formats a non-negative number with comma separators.
func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
