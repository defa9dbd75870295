package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/appgen/appgen/internal/reliability"
)

// A backend's process tree: the process benchrun started and its children. Prefork workers
// run in process groups of their own, so the tree, not the group, is what a backend costs.

// treeStats is what one measured run cost the backend's whole tree.
type treeStats struct {
	procs            int           // most processes alive at once during the run
	rss, pss         int64         // summed over the tree at the end of the run, bytes
	rootRSS, rootPSS int64         // of the process benchrun started alone (a prefork master), bytes
	rootCPU          time.Duration // CPU time of the process benchrun started (a prefork master)
	totalCPU         time.Duration // CPU time of the whole tree
	samplesOK        bool
}

// tree returns root and its children.
func tree(root int) []int {
	kids, _ := reliability.Children(root)
	return append([]int{root}, kids...)
}

// pidCPU is pid's user + system time so far, from /proc/PID/stat (clock ticks of 10 ms).
func pidCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// pss is pid's proportional set size: its resident pages, each shared page divided among the
// processes sharing it, so that summing it over prefork's workers does not count the program's
// code once per worker.
func pss(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 {
				kb, _ := strconv.ParseInt(fields[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// treeWatch samples root's tree while a run goes on.
type treeWatch struct {
	root      int
	stop      chan struct{}
	done      sync.WaitGroup
	mu        sync.Mutex
	procs     int
	cpuBefore map[int]time.Duration
}

// watchTree records CPU times now and counts the tree's processes every 200 ms until end.
func watchTree(root int) *treeWatch {
	w := &treeWatch{root: root, stop: make(chan struct{}), cpuBefore: map[int]time.Duration{}}
	for _, pid := range tree(root) {
		w.cpuBefore[pid] = pidCPU(pid)
	}
	w.procs = len(w.cpuBefore)
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			n := len(tree(root))
			w.mu.Lock()
			w.procs = max(w.procs, n)
			w.mu.Unlock()
		}
	}()
	return w
}

// end stops sampling and returns the run's figures. Processes that started during the run
// count from zero; those that exited during it are missed (none do with the defaults).
func (w *treeWatch) end() treeStats {
	close(w.stop)
	w.done.Wait()
	s := treeStats{procs: w.procs, samplesOK: true}
	for _, pid := range tree(w.root) {
		d := pidCPU(pid) - w.cpuBefore[pid]
		s.totalCPU += d
		if pid == w.root {
			s.rootCPU = d
		}
		v, _ := reliability.RSS(pid)
		p := pss(pid)
		s.rss += v
		s.pss += p
		if pid == w.root {
			s.rootRSS, s.rootPSS = v, p
		}
	}
	return s
}

// renderTrees reports, for every case whose backend is a runfcgi process model or the
// generated project, what its process tree cost: processes, memory, and the share of its CPU
// time that the process benchrun started took (for prefork: the master's).
func renderTrees(selected []benchCase, results map[string][]sample) string {
	var b strings.Builder
	var rows []benchCase
	for _, c := range selected {
		if strings.HasPrefix(c.Backend, "runfcgi") || strings.HasPrefix(c.Backend, "project") {
			if len(results[c.Name]) > 0 {
				rows = append(rows, c)
			}
		}
	}
	if len(rows) == 0 {
		return ""
	}
	b.WriteString("\n## Process models (the backend's process tree)\n\nProcesses: the most alive at once during a measured run (max over the repetitions). RSS and PSS: summed over the tree at the end of the run (medians); PSS divides each shared page among the processes sharing it. First process's RSS, PSS and CPU: the process benchrun started alone (for prefork, the master): its memory, and its share of the tree's CPU time over the run (medians).\n\n| case | processes | RSS | PSS | first process's RSS | first process's PSS | first process's CPU |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range rows {
		var procs int
		var rss, pssv, rootRSS, rootPSS, share []float64
		for _, s := range results[c.Name] {
			procs = max(procs, s.tree.procs)
			rss = append(rss, float64(s.tree.rss))
			pssv = append(pssv, float64(s.tree.pss))
			rootRSS = append(rootRSS, float64(s.tree.rootRSS))
			rootPSS = append(rootPSS, float64(s.tree.rootPSS))
			if s.tree.totalCPU > 0 {
				share = append(share, float64(s.tree.rootCPU)/float64(s.tree.totalCPU))
			}
		}
		sh := "–"
		if len(share) > 0 {
			sh = fmt.Sprintf("%.2f%%", 100*median(share))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", c.Name, procs, mib(int64(median(rss))), mib(int64(median(pssv))),
			mib(int64(median(rootRSS))), mib(int64(median(rootPSS))), sh)
	}
	b.WriteString("\n| case | against | RSS | PSS |\n|---|---|---:|---:|\n")
	for _, c := range rows {
		for _, p := range c.Peers {
			ps := results[p]
			if len(ps) == 0 || !(strings.HasPrefix(p, "project") || strings.Contains(p, "runfcgi")) {
				continue
			}
			var a, bb, ap, bp []float64
			for _, s := range results[c.Name] {
				a, ap = append(a, float64(s.tree.rss)), append(ap, float64(s.tree.pss))
			}
			for _, s := range ps {
				bb, bp = append(bb, float64(s.tree.rss)), append(bp, float64(s.tree.pss))
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f× | %.2f× |\n", c.Name, p, median(a)/median(bb), median(ap)/median(bp))
		}
	}
	return b.String()
}
