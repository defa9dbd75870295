package reliability

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
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

// parentOf reads the ppid from a /proc/PID/stat line.
func parentOf(stat string) (int, bool) {
	f := statFields(stat)
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// statFields returns the fields of a /proc/PID/stat line after "pid (comm)": f[0] is the
// state, f[1] the ppid, f[2] the process group, f[11] and f[12] utime and stime. comm may hold
// spaces and parentheses, so the fields are counted from the last ')'.
func statFields(stat string) []string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(stat[i+1:])
}

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ, which is 100 on every
// Linux architecture Go supports (the kernel scales its own HZ to it for user space).
const clockTick = 10 * time.Millisecond

// CPUTime returns the user plus system CPU time that the processes in process group pgid have
// used so far, threads included (Linux only). It is read in clock ticks, so measure over
// seconds, not milliseconds. Processes of the group that already exited are not counted.
func CPUTime(pgid int) (time.Duration, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("reliability: listing /proc: %w", err)
	}
	var total time.Duration
	found := false
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone since the listing
		}
		d, group, err := cpuOf(string(stat))
		if err != nil {
			return 0, fmt.Errorf("reliability: /proc/%s/stat: %w", e.Name(), err)
		}
		if group == pgid {
			total += d
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("reliability: no process in group %d", pgid)
	}
	return total, nil
}

// cpuOf reads utime+stime and the process group from a /proc/PID/stat line.
func cpuOf(stat string) (time.Duration, int, error) {
	f := statFields(stat)
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("%q: want \"pid (comm)\" and at least 13 fields after it", stat)
	}
	group, err1 := strconv.Atoi(f[2])
	utime, err2 := strconv.ParseInt(f[11], 10, 64)
	stime, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, fmt.Errorf("%q: want numbers for pgrp, utime and stime", stat)
	}
	return time.Duration(utime+stime) * clockTick, group, nil
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
