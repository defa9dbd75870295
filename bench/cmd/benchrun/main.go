package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/appgen/appgen/bench/wrk"
	"github.com/appgen/appgen/internal/reliability"
	"github.com/appgen/appgen/runtime/testsupport/webserver"
)

func main() {
	var (
		duration = flag.Duration("duration", 10*time.Second, "wrk run per case and repetition")
		warmup   = flag.Duration("warmup", 2*time.Second, "wrk run before each measured one, not counted")
		reps     = flag.Int("reps", 3, "repetitions of every case")
		conns    = flag.Int("conns", 32, "wrk connections")
		threads  = flag.Int("threads", 2, "wrk threads")
		only     = flag.String("run", "", "run only the throughput cases whose name matches this regexp")
		memory   = flag.Bool("memory", true, "measure the memory cases")
		out      = flag.String("out", "", "write the results (Markdown) to this file as well as stdout")
	)
	flag.Parse()
	log.SetFlags(log.Ltime)
	log.SetPrefix("benchrun: ")
	if _, err := exec.LookPath("wrk"); err != nil {
		log.Fatalf("wrk is not installed (apt-get install wrk): %v", err)
	}
	match := regexp.MustCompile(*only)

	bin, err := os.MkdirTemp("", "benchrun-bin-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(bin)
	// webserver's nginx workers run as nobody and must reach nothing in here but loopback
	// ports; the binaries are run by this process only.
	if err := buildProject(bin); err != nil {
		log.Fatal(err)
	}
	for name, pkg := range map[string]string{
		"backend": "./bench/cmd/backend",
		"canned":  "./bench/cmd/canned",
		"app":     "./internal/reliability/testdata/app",
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			log.Fatalf("building %s: %v (run benchrun from the repository root)", pkg, err)
		}
	}

	var selected []benchCase
	for _, c := range cases {
		if match.MatchString(c.Name) {
			selected = append(selected, c)
		}
	}
	results := map[string][]sample{}
	failures := map[string]string{}
	opts := wrk.Options{Threads: *threads, Conns: *conns, Duration: *duration}
	for rep := 1; rep <= *reps; rep++ {
		for _, c := range selected {
			if _, failed := failures[c.Name]; failed {
				continue
			}
			log.Printf("rep %d/%d: %s", rep, *reps, c.Name)
			err := runCase(c.Name, func(r *runner) {
				res := throughput(r, bin, c, opts, *warmup)
				log.Printf("  %.0f req/s, p50 %v, p99 %v, CPU per request: backend %.1f µs, web server %.1f µs; non-2xx %d, socket errors %d (connect %d, read %d, write %d, timeout %d)",
					res.RequestsPerSec, res.Latency[50].Round(time.Microsecond), res.Latency[99].Round(time.Microsecond),
					micros(res.backendCPU), micros(res.serverCPU), res.Non2xx, res.SocketErrors(),
					res.Connect, res.Read, res.Write, res.Timeout)
				results[c.Name] = append(results[c.Name], res)
			})
			if err != nil {
				log.Printf("  failed: %v", err)
				failures[c.Name] = err.Error()
			}
		}
	}

	var mem []memResult
	if *memory {
		mem = memoryCases(bin)
	}

	report := render(selected, results, failures, mem, *reps, opts, *warmup)
	fmt.Print(report)
	if *out != "" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", *out)
	}
	if len(failures) > 0 {
		os.Exit(1)
	}
}

// sample is one measured run of a case.
type sample struct {
	wrk.Result
	// backendCPU and serverCPU are the CPU time (user + system) the backend's and the web
	// server's processes used during the run, per request. Unlike req/s, which moves with
	// whatever else the machine does, they say what each request costs, and they show where a
	// difference in throughput comes from.
	backendCPU, serverCPU time.Duration
	// tree is what the backend's processes (a prefork master and its workers) cost.
	tree treeStats
}

// throughput runs one case once: backend, web server, a warm-up, then the measured wrk run.
func throughput(r *runner, bin string, c benchCase, opts wrk.Options, warmup time.Duration) sample {
	backendPort := webserver.FreePort(r)
	backend := startBackend(r, bin, c.Backend, backendPort)
	dir := webserver.TempDir(r)
	webPort := webserver.FreePort(r)
	site, err := c.Site(dir, webPort, backendPort)
	if err != nil {
		r.Fatalf("rendering the site: %v", err)
	}
	inst := webserver.Start(r, webserver.Config{Program: c.Server, Dir: dir, Port: webPort, Site: site})
	opts.URL = inst.URL + "/"
	if warmup > 0 {
		w := opts
		w.Duration = warmup
		if _, _, err := wrk.Run(context.Background(), w); err != nil {
			r.Fatalf("warm-up: %v", err)
		}
	}
	// Both run in process groups of their own (the backend's for killing, the web server's
	// holds its workers), so a group's CPU time is the program's.
	backendBefore, serverBefore := cpuTime(r, backend.Process.Pid), cpuTime(r, inst.Pid())
	watch := watchTree(backend.Process.Pid)
	res, text, err := wrk.Run(context.Background(), opts)
	ts := watch.end()
	if err != nil {
		r.Fatalf("%v\n%s", err, text)
	}
	if res.Requests == 0 || res.Non2xx == res.Requests {
		r.Fatalf("no successful request: %d requests, %d non-2xx\n%s\nerror log:\n%s", res.Requests, res.Non2xx, text, inst.ErrorLog())
	}
	n := time.Duration(res.Requests)
	backendCPU := (cpuTime(r, backend.Process.Pid) - backendBefore) / n
	if ts.procs > 1 {
		// Prefork workers are in process groups of their own: count the tree.
		backendCPU = ts.totalCPU / n
	}
	return sample{
		Result:     res,
		backendCPU: backendCPU,
		serverCPU:  (cpuTime(r, inst.Pid()) - serverBefore) / n,
		tree:       ts,
	}
}

func cpuTime(r *runner, pgid int) time.Duration {
	d, err := reliability.CPUTime(pgid)
	if err != nil {
		r.Fatalf("%v", err)
	}
	return d
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// startBackend starts bench/cmd/backend (or canned) on port and waits until it accepts.
func startBackend(r *runner, bin, backend string, port int) *exec.Cmd {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var cmd *exec.Cmd
	runfcgi := []string{"runfcgi", "protocol=fcgi", "host=127.0.0.1", "port=" + strconv.Itoa(port), "daemonize=false"}
	project := filepath.Join(bin, "mysite", "mysite")
	switch backend {
	case "canned":
		cmd = exec.Command(filepath.Join(bin, "canned"), "-listen", addr)
	case "runfcgi threaded", "runfcgi prefork":
		cmd = exec.Command(filepath.Join(bin, "backend"), append(runfcgi, "method="+strings.Fields(backend)[1])...)
	case "runfcgi default":
		cmd = exec.Command(filepath.Join(bin, "backend"), runfcgi...)
	case "project runserver":
		cmd = exec.Command(project, "runserver", addr)
	case "project threaded", "project prefork":
		cmd = exec.Command(project, append(runfcgi, "method="+strings.Fields(backend)[1])...)
	case "project default":
		cmd = exec.Command(project, runfcgi...)
	default:
		cmd = exec.Command(filepath.Join(bin, "backend"), "-proto", backend, "-listen", addr, "-secret", ajpSecret)
	}
	return startProcess(r, cmd, addr)
}

// startProcess starts cmd in its own process group, kills the group at cleanup, and waits
// until addr accepts connections.
func startProcess(r *runner, cmd *exec.Cmd, addr string) *exec.Cmd {
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Fatalf("starting %s: %v", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	r.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case <-exited:
			r.Fatalf("%s exited before listening on %s", cmd.Path, addr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			r.Fatalf("%s did not listen on %s within 10s: %v", cmd.Path, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// summary is a case's figures over its repetitions.
type summary struct {
	rps, rpsMin, rpsMax float64
	p50, p99            time.Duration
	backendCPU          time.Duration // per request
	serverCPU           time.Duration // per request
	requests, non2xx    int64
	sockErrs            int64
}

// summarize takes the median of each figure over the repetitions (the mean of the middle two
// for an even count): a repetition disturbed by the rest of the machine moves it least.
func summarize(rs []sample) summary {
	var s summary
	var rps, p50, p99, backend, server []float64
	for _, r := range rs {
		rps = append(rps, r.RequestsPerSec)
		p50 = append(p50, float64(r.Latency[50]))
		p99 = append(p99, float64(r.Latency[99]))
		backend = append(backend, float64(r.backendCPU))
		server = append(server, float64(r.serverCPU))
		s.requests += r.Requests
		s.non2xx += r.Non2xx
		s.sockErrs += r.SocketErrors()
	}
	s.rps = median(rps)
	s.rpsMin, s.rpsMax = slices.Min(rps), slices.Max(rps)
	s.p50, s.p99 = time.Duration(median(p50)), time.Duration(median(p99))
	s.backendCPU, s.serverCPU = time.Duration(median(backend)), time.Duration(median(server))
	return s
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func render(selected []benchCase, results map[string][]sample, failures map[string]string, mem []memResult, reps int, opts wrk.Options, warmup time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# appgen benchmark results, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString(machine())
	fmt.Fprintf(&b, "\nLoad: `wrk -t%d -c%d -d%s --latency`, after a %s warm-up; %d repetitions per case, interleaved; req/s, p50, p99 and the CPU time per request are medians over the repetitions (min–max shows the spread of req/s). CPU time is user + system time of the backend's processes and of the web server's, over the measured run, divided by its requests; it is read in 10 ms clock ticks, which a run of seconds makes a fraction of a percent.\n\n",
		opts.Threads, opts.Conns, opts.Duration, warmup, reps)
	b.WriteString("## Throughput and latency\n\n| case | req/s | min–max | p50 | p99 | backend CPU/req | web server CPU/req | requests | non-2xx | socket errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	sums := map[string]summary{}
	for _, c := range selected {
		if msg, ok := failures[c.Name]; ok {
			fmt.Fprintf(&b, "| %s | failed: %s |||||||||\n", c.Name, strings.ReplaceAll(firstLine(msg), "|", "/"))
			continue
		}
		rs := results[c.Name]
		if len(rs) == 0 {
			continue
		}
		s := summarize(rs)
		sums[c.Name] = s
		fmt.Fprintf(&b, "| %s | %.0f | %.0f–%.0f | %v | %v | %.1f µs | %.1f µs | %d | %d | %d |\n", c.Name, s.rps, s.rpsMin, s.rpsMax,
			s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), micros(s.backendCPU), micros(s.serverCPU), s.requests, s.non2xx, s.sockErrs)
	}
	b.WriteString("\n## Ratios (same run)\n\nThroughput ratio above 1 is faster than the peer; latency and CPU ratios below 1 are quicker or cheaper. The first throughput column divides the medians; the second takes the ratio within each repetition, where both ran minutes apart on the same machine, and gives the median and range of those (the steadier figure when the machine's speed drifts).\n\n| case | against | throughput | per repetition | p50 | p99 | backend CPU/req | web server CPU/req |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range selected {
		s, ok := sums[c.Name]
		if !ok {
			continue
		}
		for _, p := range c.Peers {
			ps, ok := sums[p]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.2f× | %s | %.2f× | %.2f× | %s | %s |\n", c.Name, p, s.rps/ps.rps,
				perRep(results[c.Name], results[p]), float64(s.p50)/float64(ps.p50), float64(s.p99)/float64(ps.p99),
				ratio(s.backendCPU, ps.backendCPU), ratio(s.serverCPU, ps.serverCPU))
		}
	}
	b.WriteString(renderTrees(selected, results))
	if len(mem) > 0 {
		b.WriteString("\n## Memory (VmRSS)\n\n| case | figure | against | ratio |\n|---|---:|---|---:|\n")
		for _, m := range mem {
			if m.err != "" {
				fmt.Fprintf(&b, "| %s | failed: %s | | |\n", m.name, strings.ReplaceAll(firstLine(m.err), "|", "/"))
				continue
			}
			ratio := ""
			if m.peer != "" && m.peerValue > 0 {
				ratio = fmt.Sprintf("%.2f×", m.value/m.peerValue)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", m.name, m.text, m.peer, ratio)
		}
	}
	return b.String()
}

// perRep is the median and range of a's req/s over b's within each repetition, as "0.95× (0.90–1.01)",
// or "–" unless both have a result for every repetition (one failed part-way).
func perRep(a, b []sample) string {
	if len(a) == 0 || len(a) != len(b) {
		return "–"
	}
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i].RequestsPerSec / b[i].RequestsPerSec
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", median(r), slices.Min(r), slices.Max(r))
}

// ratio is a/b as "1.23×", or "–" when b is zero (a peer too cheap to see in clock ticks).
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// machine describes where the figures were taken.
func machine() string {
	var b strings.Builder
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
		f.Close()
	}
	fmt.Fprintf(&b, "Machine: %d cores (%s), %s memory, %s; server, web server and wrk on the same machine over loopback.\n\n",
		runtime.NumCPU(), model, memTotal(), runtime.GOOS+"/"+runtime.GOARCH)
	versions := []string{runtime.Version()}
	for _, v := range [][]string{{"nginx", "-v"}, {"apache2", "-v"}, {"wrk", "-v"}} {
		exe, err := webserver.LookPath(v[0])
		if err != nil {
			continue
		}
		out, _ := exec.Command(exe, v[1:]...).CombinedOutput()
		versions = append(versions, firstLine(strings.TrimSpace(string(out))))
	}
	sort.Strings(versions[1:])
	fmt.Fprintf(&b, "Software: %s.\n", strings.Join(versions, "; "))
	return b.String()
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(v)
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}
