package main

import (
	"fmt"
	"strings"
)

// targets writes the product goals of issue 3 and whether this run met
// them.
func (rep *report) targets(b *strings.Builder) {
	names := rep.systemNames()
	goy, zmq, raw, py := names[sysGoyoton], names[sysLibzmq], names[sysTCPAlloc], names[sysPython]
	if goy == "" {
		return
	}
	b.WriteString("\n## Targets (issue 3)\n\n")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	get := func(group string, size int, system string) *row {
		for i := range rep.Rows {
			w := &rep.Rows[i]
			if w.Group == group && w.System == system && (size == 0 || w.Size == size) {
				return w
			}
		}
		return nil
	}
	// 1. pub/sub msgs/s ≥ libzmq at 64 B and every other size.
	if zmq != "" {
		var parts []string
		all := true
		any := false
		for _, w := range rep.rowsOf(grpPubSub) {
			if w.System != goy {
				continue
			}
			if w.VsLibzmq <= 0 {
				parts = append(parts, fmt.Sprintf("%s: not measured", humanSize(w.Size)))
				all = false
				continue
			}
			any = true
			all = all && w.VsLibzmq >= 1
			parts = append(parts, fmt.Sprintf("%s: %s", humanSize(w.Size), ratioCell(w.VsLibzmq)))
		}
		if any {
			fmt.Fprintf(b, "- Pub/sub msgs/s ≥ libzmq's at every size: %s (Go yoton ÷ libzmq: %s).\n", verdict(all), strings.Join(parts, ", "))
		}
	} else {
		b.WriteString("- Pub/sub msgs/s ≥ libzmq's: not measured (no libzmq in this run).\n")
	}
	// 2. 1 MiB ≥ 0.8 × the allocating raw-TCP ceiling.
	if w := get(grpPubSub, 1<<20, goy); w != nil && raw != "" && w.VsRaw > 0 {
		fmt.Fprintf(b, "- 1 MiB throughput ≥ 0.8 × raw TCP (alloc): %s (%s).\n", verdict(w.VsRaw >= 0.8), ratioCell(w.VsRaw))
	} else {
		b.WriteString("- 1 MiB throughput ≥ 0.8 × raw TCP (alloc): not measured.\n")
	}
	// 3. req/rep p50 ≤ libzmq's.
	switch w := get(grpLatency, 0, goy); {
	case w == nil:
		b.WriteString("- Req/rep p50 ≤ libzmq's: not measured.\n")
	case w.Pending != "":
		fmt.Fprintf(b, "- Req/rep p50 ≤ libzmq's: not measured — %s.\n", w.Pending)
	case w.VsLibzmq > 0:
		fmt.Fprintf(b, "- Req/rep p50 ≤ libzmq's: %s (p50 ÷ libzmq's: %s).\n", verdict(w.VsLibzmq <= 1), ratioCell(w.VsLibzmq))
	}
	// 4. ≥ 50 × Python yoton in every scenario.
	if py == "" {
		b.WriteString("- ≥ 50 × Python yoton in every scenario: not measured (no Python yoton in this run).\n")
		return
	}
	var parts []string
	all := true
	for _, w := range rep.Rows {
		if w.System != goy || w.Group == grpInterop {
			continue
		}
		label := w.Scenario
		switch {
		case w.Pending != "":
			parts = append(parts, label+": not yet available")
			all = false
		case w.Group == grpScale:
			parts = append(parts, label+": Python not measured")
		case w.VsPython > 0:
			x := w.VsPython
			if w.Group == grpLatency { // lower is better
				x = 1 / x
			}
			all = all && x >= 50
			parts = append(parts, fmt.Sprintf("%s: %s", label, ratioCell(x)))
		default:
			parts = append(parts, label+": not measured")
			all = false
		}
	}
	fmt.Fprintf(b, "- ≥ 50 × Python yoton in every scenario: %s (Go yoton's advantage: %s).\n", verdict(all), strings.Join(parts, "; "))
	b.WriteString("\nWhere a target is missed, bench/README.md (\"What the profile shows\") says what stands in the way.\n")
}
