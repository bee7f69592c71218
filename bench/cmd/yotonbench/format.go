package main

import (
	"fmt"
	"strconv"
)

// Names of the figures of a row, as in results.json: the keys of
// row.Ranges.
const (
	figMsgs     = "msgs_per_sec"
	figMB       = "mb_per_sec"
	figCPU      = "cpu_s_per_1m_msgs"
	figCalls    = "calls_per_sec"
	figP50      = "p50_us"
	figP99      = "p99_us"
	figP999     = "p999_us"
	figSetup    = "setup_seconds"
	figRSS      = "rss_bytes_per_conn"
	figFanout   = "fanout_ms"
	figReceived = "received"
)

// unit is how a figure is written: divided by div, with dec decimals,
// followed by suffix; or, with commas, as a whole number with thousands
// separators. A median and the range of its runs share one unit.
type unit struct {
	div    float64
	dec    int
	suffix string
	commas bool
}

func (u unit) num(v float64) string {
	if u.commas || (u.dec == 0 && v/u.div >= 1000) {
		return thousands(v / max(u.div, 1))
	}
	return strconv.FormatFloat(v/u.div, 'f', u.dec, 64)
}

// rateUnit writes counts and rates to three significant digits with k or
// M ("2.03 M", "432 k", "52.8 k"), and below 10,000 whole ("8,341"): runs
// on a shared 2-core machine differ by far more than the fourth digit.
func rateUnit(v float64) unit {
	switch {
	case v < 1e4:
		return unit{commas: true}
	case v < 1e6:
		return unit{div: 1e3, dec: sigDecimals(v / 1e3), suffix: " k"}
	}
	return unit{div: 1e6, dec: sigDecimals(v / 1e6), suffix: " M"}
}

// sigDecimals is how many decimals give x (≥ 1) three significant digits.
func sigDecimals(x float64) int {
	switch {
	case x < 10:
		return 2
	case x < 100:
		return 1
	}
	return 0
}

// latencyUnit writes microseconds as micros does: "35.2 µs", "1.25 ms".
func latencyUnit(us float64) unit {
	switch {
	case us < 1000:
		return unit{div: 1, dec: 1, suffix: " µs"}
	case us < 1e6:
		return unit{div: 1e3, dec: 2, suffix: " ms"}
	}
	return unit{div: 1e6, dec: 2, suffix: " s"}
}

// sigUnit writes v to three significant digits ("0.87", "12.3", "645",
// "3048") followed by suffix.
func sigUnit(v float64, suffix string) unit {
	if v < 1 {
		return unit{div: 1, dec: 2, suffix: suffix}
	}
	return unit{div: 1, dec: sigDecimals(v), suffix: suffix}
}

// rssUnit writes bytes as KiB with one decimal.
var rssUnit = unit{div: 1024, dec: 1, suffix: " KiB"}

// withRange writes a median and, when its runs differ in the digits
// shown, the lowest and highest run in brackets, in the median's unit:
// "101.2 µs (94.8–102.3)", "2.03 M (1.90–2.15)". A figure of one run, or
// of runs that agree, is written alone.
func withRange(med float64, u unit, r [2]float64, known bool) string {
	s := u.num(med) + u.suffix
	if known {
		lo, hi := u.num(r[0]), u.num(r[1])
		if lo != hi {
			s += " (" + lo + "–" + hi + ")"
		}
	}
	return s
}

// fig writes the row's figure name (median med) with its range over the
// row's runs.
func (w *row) fig(name string, med float64, u unit) string {
	r, ok := w.Ranges[name]
	return withRange(med, u, r, ok)
}

// figure values by name, for summarize and the README.
func (w *row) value(name string) float64 {
	switch name {
	case figMsgs:
		return w.MsgsPerSec
	case figMB:
		return w.MBPerSec
	case figCPU:
		return w.CPUPerMillion
	case figCalls:
		return w.CallsPerSec
	case figP50:
		return w.P50us
	case figP99:
		return w.P99us
	case figP999:
		return w.P999us
	case figSetup:
		return w.Setup
	case figRSS:
		return w.BytesPerConn
	case figFanout:
		return w.FanoutMs
	case figReceived:
		return w.Received
	}
	panic("unknown figure " + name)
}

// unitOf is the unit a figure is written in, chosen by its median.
func unitOf(name string, med float64) unit {
	switch name {
	case figMsgs, figCalls, figReceived:
		return rateUnit(med)
	case figMB, figCPU:
		return sigUnit(med, "")
	case figP50, figP99, figP999:
		return latencyUnit(med)
	case figSetup:
		return sigUnit(med, " s")
	case figRSS:
		return rssUnit
	case figFanout:
		return sigUnit(med, " ms")
	}
	panic("unknown figure " + name)
}

// median writes the row's figure name without its range (for prose).
func (w *row) median(name string) string {
	v := w.value(name)
	u := unitOf(name, v)
	return u.num(v) + u.suffix
}

// cell writes the row's figure name: median and range, in its unit.
func (w *row) cell(name string) string {
	v := w.value(name)
	return w.fig(name, v, unitOf(name, v))
}

// percent writes a share of 0–100 % so that it does not read as 0 or
// 100 % when it is neither: "50 %", "0.4 %", "0.05 %", "< 0.01 %",
// "99.7 %", "> 99.9 %".
func percent(p float64) string {
	switch {
	case p <= 0:
		return "0 %"
	case p >= 100:
		return "100 %"
	case p < 0.01:
		return "< 0.01 %"
	case p < 0.1:
		return fmt.Sprintf("%.2f %%", p)
	case p < 1:
		return fmt.Sprintf("%.1f %%", p)
	case p > 99.9:
		return "> 99.9 %"
	case p > 99:
		return fmt.Sprintf("%.1f %%", p)
	}
	return fmt.Sprintf("%.0f %%", p)
}
