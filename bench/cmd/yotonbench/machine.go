package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// machine describes where a benchmark ran.
type machine struct {
	Date    string `json:"date"`
	CPU     string `json:"cpu"`
	Cores   int    `json:"cores"`
	Kernel  string `json:"kernel"`
	Go      string `json:"go"`
	GoYoton string `json:"goyoton"`
	Load    string `json:"load_average,omitempty"` // at the start of the run
}

func describeMachine() machine {
	m := machine{
		Date:    time.Now().Format(time.RFC3339),
		CPU:     cpuModel(),
		Cores:   runtime.NumCPU(),
		Kernel:  kernelRelease(),
		Go:      runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		GoYoton: goYotonVersion(),
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// kernelRelease is what `uname -r` prints.
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return strings.TrimSpace(string(b))
}

// goYotonVersion names the library build: the VCS revision stamped into
// this binary when there is one (go build in a git checkout).
func goYotonVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		// go run stamps no revision: ask git about the checkout.
		out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
		if err != nil {
			return "working tree (no VCS stamp)"
		}
		rev = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
			dirty = true
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return "git " + rev
}
