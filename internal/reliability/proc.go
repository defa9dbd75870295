package reliability

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Children returns the pids whose parent is pid, read from /proc (Linux only).
func Children(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("reliability: listing /proc: %w", err)
	}
	var kids []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone since the listing
		}
		if ppid, ok := parentOf(string(stat)); ok && ppid == pid {
			kids = append(kids, p)
		}
	}
	return kids, nil
}

// parentOf reads the ppid from a /proc/PID/stat line: "pid (comm) state ppid …", where comm may
// hold spaces and parentheses, so the fields are counted from the last ')'.
func parentOf(stat string) (int, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// RSS returns the resident set size of pid in bytes (VmRSS in /proc/PID/status).
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reliability: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("reliability: /proc/%d/status VmRSS %q, want \"N kB\"", pid, rest)
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reliability: /proc/%d/status VmRSS %q: %w", pid, rest, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("reliability: /proc/%d/status has no VmRSS line", pid)
}
