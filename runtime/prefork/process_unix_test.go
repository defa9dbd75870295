//go:build unix

package prefork_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/appgen/appgen/runtime/prefork"
)

// The tests run real processes: the test binary re-executes itself as a
// prefork master (roleEnv=master), and that master re-executes it again as
// its workers, exactly as a generated project's binary does.
const (
	roleEnv       = "PREFORK_TEST_ROLE"
	configEnv     = "PREFORK_TEST_CONFIG"      // MinSpare,MaxSpare,MaxChildren,MaxRequests[,Concurrency[,MaxRequestsJitter[,MaxRSS[,StatusFile]]]]
	workerModeEnv = "PREFORK_TEST_WORKER_MODE" // "crash": exit 3 before serving; "crash-if:PATH": the same while PATH exists
	socketEnv     = "PREFORK_TEST_SOCKET"      // listen on this unix socket instead of TCP
)

// waitLimit only turns a hang into a failure; nothing asserts how fast
// anything happens.
const waitLimit = 60 * time.Second

func TestMain(m *testing.M) {
	switch {
	case prefork.IsWorker():
		os.Exit(helperWorker())
	case os.Getenv(roleEnv) == "master":
		os.Exit(helperMaster())
	}
	os.Exit(m.Run())
}

func helperConfig() prefork.Config {
	var n [8]int
	for i, f := range strings.Split(os.Getenv(configEnv), ",") {
		n[i], _ = strconv.Atoi(f)
	}
	return prefork.Config{
		MinSpare: n[0], MaxSpare: n[1], MaxChildren: n[2], MaxRequests: n[3], Concurrency: n[4],
		MaxRequestsJitter: n[5], MaxRSS: int64(n[6]), StatusFile: n[7] == 1,
		ErrorLog: log.New(os.Stderr, "", 0),
	}
}

func helperMaster() int {
	network, address := "tcp", "127.0.0.1:0"
	if path := os.Getenv(socketEnv); path != "" {
		network, address = "unix", path
	}
	l, err := net.Listen(network, address)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("addr %s\n", l.Addr())
	cfg := helperConfig()
	var mu sync.Mutex
	cfg.Observe = func(s prefork.Stats) {
		b, _ := json.Marshal(s)
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf("stats %s\n", b)
	}
	event := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf("event "+format+"\n", args...)
	}
	cfg.Ready = func(gen int) { event("ready %d", gen) }
	cfg.Reloading = func(gen int) { event("reloading %d", gen) }
	cfg.ReloadFailed = func(gen int, err error) { event("reload failed %d: %v", gen, err) }
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err = prefork.Master(ctx, l, cfg)
	fmt.Printf("master returned %v\n", err)
	return 0
}

func helperWorker() int {
	mode := os.Getenv(workerModeEnv)
	if path, ok := strings.CutPrefix(mode, "crash-if:"); ok {
		if _, err := os.Stat(path); err == nil {
			mode = "crash"
		}
	}
	if mode == "crash" {
		fmt.Fprintln(os.Stderr, "worker: crashing on purpose")
		return 3
	}
	mux := http.NewServeMux()
	var pidHits atomic.Int64
	mux.HandleFunc("/pid", func(w http.ResponseWriter, r *http.Request) {
		pidHits.Add(1)
		fmt.Fprint(w, os.Getpid())
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "GOGC=%s GOMAXPROCS=%s", os.Getenv("GOGC"), os.Getenv("GOMAXPROCS"))
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := prefork.ReadStatus()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(st)
	})
	// /hold answers "started <pid>" at once, then holds the request open until
	// the client ends its body, so a test controls exactly how long the
	// request is in flight.
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		rc.EnableFullDuplex()
		fmt.Fprintf(w, "started %d\n", os.Getpid())
		rc.Flush()
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, "done\n")
	})
	cfg := helperConfig()
	cfg.Metrics = func() []int64 { return []int64{pidHits.Load(), 7} }
	err := prefork.Worker(context.Background(), func(wrap func(http.Handler) http.Handler) prefork.Server {
		return &http.Server{Handler: wrap(mux), ErrorLog: log.New(os.Stderr, "worker: ", 0)}
	}, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// cluster is a master process started by a test, with what it has said.
type cluster struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	client *http.Client

	mu       sync.Mutex
	changed  *sync.Cond
	history  []prefork.Stats
	events   []string // Config.Ready, Reloading and ReloadFailed, as "ready 0"
	returned string   // the master's "master returned …" line
	stderr   bytes.Buffer
	exited   bool
}

func startCluster(t *testing.T, config string, env ...string) *cluster {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"=master", configEnv+"="+config)
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, cmd: cmd}
	c.changed = sync.NewCond(&c.mu)
	cmd.Stderr = lockedWriter{c}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			switch {
			case strings.HasPrefix(line, "addr "):
				addr <- strings.TrimPrefix(line, "addr ")
			case strings.HasPrefix(line, "stats "):
				var s prefork.Stats
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "stats ")), &s); err != nil {
					t.Errorf("master printed %q: %v", line, err)
				}
				c.history = append(c.history, s)
			case strings.HasPrefix(line, "event "):
				c.events = append(c.events, strings.TrimPrefix(line, "event "))
			case strings.HasPrefix(line, "master returned "):
				c.returned = strings.TrimPrefix(line, "master returned ")
			}
			c.changed.Broadcast()
			c.mu.Unlock()
		}
		cmd.Wait()
		c.mu.Lock()
		c.exited = true
		c.changed.Broadcast()
		c.mu.Unlock()
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.wait("the master to exit", func() bool { return c.exited })
		if t.Failed() {
			c.mu.Lock()
			t.Logf("master stderr:\n%s", c.stderr.String())
			c.mu.Unlock()
		}
	})
	select {
	case c.addr = <-addr:
	case <-time.After(waitLimit):
		t.Fatal("the master never printed its address")
	}
	c.client = &http.Client{Timeout: waitLimit, Transport: c.transport()}
	t.Cleanup(c.client.CloseIdleConnections)
	return c
}

// transport dials the master's socket, whatever its network.
func (c *cluster) transport() *http.Transport {
	t := &http.Transport{MaxIdleConnsPerHost: 16}
	if strings.HasPrefix(c.addr, "/") {
		path := c.addr
		t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
	}
	return t
}

// url is what the clients ask for; a unix socket's path goes in the dialer.
func (c *cluster) url(path string) string {
	if strings.HasPrefix(c.addr, "/") {
		return "http://unix" + path
	}
	return "http://" + c.addr + path
}

type lockedWriter struct{ c *cluster }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.c.changed.Broadcast()
	return w.c.stderr.Write(p)
}

// wait blocks until cond, evaluated with c.mu held, is true.
func (c *cluster) wait(what string, cond func() bool) {
	c.t.Helper()
	timer := time.AfterFunc(waitLimit, func() {
		c.mu.Lock()
		c.changed.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(waitLimit)
	c.mu.Lock()
	defer c.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("gave up waiting for %s; last stats %+v; stderr:\n%s", what, c.lastLocked(), c.stderr.String())
		}
		c.changed.Wait()
	}
}

func (c *cluster) lastLocked() prefork.Stats {
	if len(c.history) == 0 {
		return prefork.Stats{}
	}
	return c.history[len(c.history)-1]
}

// waitStats waits for the master's latest snapshot to satisfy cond.
func (c *cluster) waitStats(what string, cond func(prefork.Stats) bool) prefork.Stats {
	c.t.Helper()
	var s prefork.Stats
	c.wait(what, func() bool {
		if len(c.history) == 0 {
			return false
		}
		s = c.lastLocked()
		return cond(s)
	})
	return s
}

// stop sends SIGTERM (the caller cancels Master's ctx) and checks that Master
// drained its workers and returned nil.
func (c *cluster) stop() {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	c.wait("the master to exit", func() bool { return c.exited })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.returned != "<nil>" {
		c.t.Errorf("Master returned %q, want <nil>", c.returned)
	}
	if s := c.lastLocked(); s.Starting+s.Idle+s.Busy+s.Retiring+s.Stopping != 0 {
		c.t.Errorf("Master returned with workers left: %+v", s)
	}
}

func (c *cluster) get(path string) (string, error) {
	return get(c.client, c.url(path))
}

func get(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return string(body), nil
}

// hold is a request kept in flight until release.
type hold struct {
	pid     string
	body    *io.PipeWriter
	resp    *http.Response
	release func() (string, error)
}

func (c *cluster) hold() *hold {
	c.t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", c.url("/hold"), pr)
	if err != nil {
		c.t.Fatal(err)
	}
	// Each hold on its own connection, so each can land on any worker.
	transport := c.transport()
	transport.DisableKeepAlives = true
	client := &http.Client{Timeout: waitLimit, Transport: transport}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("starting a held request: %v", err)
	}
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "started ") {
		c.t.Fatalf("held request answered %q, %v", line, err)
	}
	h := &hold{pid: strings.TrimSpace(strings.TrimPrefix(line, "started ")), body: pw, resp: resp}
	h.release = func() (string, error) {
		pw.Close()
		defer resp.Body.Close()
		rest, err := io.ReadAll(br)
		return string(rest), err
	}
	return h
}

// load runs clients concurrent loops of GET /pid until stop is closed or each
// has made limit requests, and returns the pids that answered, in order, and
// every failure.
func (c *cluster) load(clients, limit int, stop <-chan struct{}, onPid func(pid string)) (pids []string, failures []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One connection per client, kept alive and redialled only when
			// a worker closes it, as a web server's upstream connection is.
			// (A shared pool dials spare connections it may never use, and
			// no server can close one of those without racing the client.)
			transport := c.transport()
			transport.MaxConnsPerHost = 1
			defer transport.CloseIdleConnections()
			client := &http.Client{Timeout: waitLimit, Transport: transport}
			for range limit {
				select {
				case <-stop:
					return
				default:
				}
				pid, err := get(client, c.url("/pid"))
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else {
					pids = append(pids, pid)
					if onPid != nil {
						onPid(pid)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return pids, failures
}

func distinct(pids []string) map[string]int {
	m := make(map[string]int)
	for _, p := range pids {
		m[p]++
	}
	return m
}

func TestWorkersShareTheListener(t *testing.T) {
	c := startCluster(t, "3,4,6,0")
	c.waitStats("3 idle workers", func(s prefork.Stats) bool { return s.Idle >= 3 })
	// Fresh connections, so the kernel picks a worker for each.
	c.client.Transport.(*http.Transport).DisableKeepAlives = true
	var seen map[string]int
	for i := 0; i < 400 && len(seen) < 2; i++ {
		pid, err := c.get("/pid")
		if err != nil {
			t.Fatal(err)
		}
		if pid == strconv.Itoa(c.cmd.Process.Pid) {
			t.Fatalf("the master (pid %s) served a request", pid)
		}
		if seen == nil {
			seen = make(map[string]int)
		}
		seen[pid]++
	}
	if len(seen) < 2 {
		t.Errorf("400 requests were all served by one worker: %v", seen)
	}
	c.stop()
}

// Workers share one process's heap headroom (GOGC 100 / MinSpare) and cores,
// unless the environment sets them (issue 11: prefork held 2.5 times
// threaded's memory, each worker a whole GOGC=100 heap).
func TestWorkerEnvironmentSharesHeadroom(t *testing.T) {
	for _, tt := range []struct {
		name, config string
		env          []string
		wantGOGC     string
	}{
		{"two workers", "2,2,4,0", nil, "GOGC=50 "},
		{"eight workers, the floor", "8,8,8,0", nil, "GOGC=25 "},
		{"GOGC given", "2,2,4,0", []string{"GOGC=200"}, "GOGC=200 "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, set := os.LookupEnv("GOGC"); set && tt.env == nil {
				t.Skip("GOGC is set in the test's environment, and workers keep it")
			}
			c := startCluster(t, tt.config, tt.env...)
			got, err := c.get("/env")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, tt.wantGOGC) {
				t.Errorf("a worker's environment has %q, want %q first", got, tt.wantGOGC)
			}
			c.stop()
		})
	}
}

// waitEvent waits until the master has reported an event starting with
// prefix, and returns it.
func (c *cluster) waitEvent(prefix string) string {
	c.t.Helper()
	var got string
	c.wait("event "+prefix, func() bool {
		for _, e := range c.events {
			if strings.HasPrefix(e, prefix) {
				got = e
				return true
			}
		}
		return false
	})
	return got
}

// The master tells its caller when a generation serves, when SIGHUP starts
// the next, and when that one fails to start while the old one serves on
// (runfcgi passes them on to systemd: READY=1, RELOADING=1).
func TestGenerationEvents(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken")
	c := startCluster(t, "1,1,2,0", workerModeEnv+"=crash-if:"+broken)
	c.waitEvent("ready 0")
	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c.cmd.Process.Signal(syscall.SIGHUP)
	c.waitEvent("reloading 1")
	if e := c.waitEvent("reload failed 1: "); !strings.Contains(e, "exited before becoming ready") {
		t.Errorf("event %q, want the worker that exited before it was ready", e)
	}
	// The old generation still serves.
	if _, err := c.get("/pid"); err != nil {
		t.Fatalf("after the failed reload: %v", err)
	}
	os.Remove(broken)
	c.waitEvent("ready 1")
	c.mu.Lock()
	events := strings.Join(c.events, "\n")
	c.mu.Unlock()
	if n := strings.Count(events, "reload failed 1"); n != 1 {
		t.Errorf("reload failed reported %d times, want once per generation:\n%s", n, events)
	}
	c.stop()
}

func TestSpareWorkersConverge(t *testing.T) {
	// Concurrency 1: a worker with one request in flight is saturated.
	const minSpare, maxSpare, maxChildren = 2, 3, 6
	c := startCluster(t, fmt.Sprintf("%d,%d,%d,0,1", minSpare, maxSpare, maxChildren))
	first := c.waitStats("the first workers to be ready", func(s prefork.Stats) bool { return s.Idle >= minSpare })
	var holds []*hold
	for range 5 {
		holds = append(holds, c.hold())
	}
	// Whichever workers the held requests landed on are busy, so fewer than
	// MinSpare were idle at some point and the master had to start more.
	c.waitStats("more workers for the busy ones", func(s prefork.Stats) bool {
		return s.Started > first.Started && s.Idle+s.Starting >= minSpare || s.Idle+s.Busy+s.Starting == maxChildren
	})
	for _, h := range holds {
		rest, err := h.release()
		if err != nil || rest != "done\n" {
			t.Errorf("held request ended with %q, %v", rest, err)
		}
	}
	final := c.waitStats("idle workers within [MinSpare, MaxSpare]", func(s prefork.Stats) bool {
		return s.Busy == 0 && s.Starting == 0 && s.Stopping == 0 && s.Idle >= minSpare && s.Idle <= maxSpare
	})
	c.mu.Lock()
	peak := 0
	for _, s := range c.history {
		if n := s.Starting + s.Idle + s.Busy; n > maxChildren {
			t.Errorf("%d workers accepting at once, want at most MaxChildren %d: %+v", n, maxChildren, s)
		}
		peak = max(peak, s.Starting+s.Idle+s.Busy)
	}
	c.mu.Unlock()
	if peak <= minSpare {
		t.Errorf("peak of %d workers: the master never started any for the held requests", peak)
	}
	t.Logf("peak %d workers; settled at %+v", peak, final)
	c.stop()
}

// Issue 11: a worker counted as busy whenever it had a request in flight, so
// a loaded Go worker, which always has one, made the master fork up to
// MaxChildren. Busy now means saturated: requests in flight below
// Concurrency start no worker.
func TestRequestsInFlightDoNotForkWorkers(t *testing.T) {
	const minSpare, held = 2, 5
	c := startCluster(t, fmt.Sprintf("%d,%d,6,0,%d", minSpare, minSpare, held+1))
	first := c.waitStats("the first workers to be ready", func(s prefork.Stats) bool { return s.Idle >= minSpare })
	var holds []*hold
	for range held {
		holds = append(holds, c.hold())
	}
	seen := c.waitStats("the master to see the held requests", func(s prefork.Stats) bool { return s.InFlight == held })
	if seen.Started != first.Started || seen.Busy != 0 {
		t.Errorf("with %d requests in flight below Concurrency %d: %+v, want no busy worker and no start since %+v", held, held+1, seen, first)
	}
	for _, h := range holds {
		if rest, err := h.release(); err != nil || rest != "done\n" {
			t.Errorf("held request ended with %q, %v", rest, err)
		}
	}
	c.mu.Lock()
	for _, s := range c.history {
		if s.Started > first.Started {
			t.Errorf("the master started a worker while none was saturated: %+v", s)
			break
		}
	}
	c.mu.Unlock()
	c.stop()
}

// Issue 11's maxrss: a worker whose resident memory passes MaxRSS finishes
// its requests and is replaced, not killed: every request is answered.
func TestMaxRSSRecyclesWorkers(t *testing.T) {
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("MaxRSS needs /proc/self/statm (Linux)")
	}
	// 1 MiB: below any Go process, so every worker recycles about a second
	// after it starts.
	c := startCluster(t, "1,1,2,0,0,0,1048576")
	first := c.waitStats("a worker ready", func(s prefork.Stats) bool { return s.Idle >= 1 })
	stop := make(chan struct{})
	done := make(chan []error)
	go func() {
		_, failures := c.load(2, 1<<30, stop, nil)
		done <- failures
	}()
	c.waitStats("two recycles", func(s prefork.Stats) bool { return s.Started >= first.Started+2 })
	close(stop)
	for _, err := range <-done {
		t.Errorf("request failed while workers recycled: %v", err)
	}
	c.mu.Lock()
	if !strings.Contains(c.stderr.String(), "exceeds MaxRSS 1048576; recycling it") {
		t.Errorf("no recycle logged; stderr:\n%s", c.stderr.String())
	}
	if s := c.lastLocked(); s.Crashed != 0 {
		t.Errorf("%d workers crashed, want each to exit when asked", s.Crashed)
	}
	c.mu.Unlock()
	c.stop()
}

// A worker reads the pool's status from its master (runfcgi's status=).
func TestWorkersReadThePoolStatus(t *testing.T) {
	c := startCluster(t, "2,2,4,0,0,0,0,1")
	c.waitStats("2 workers ready", func(s prefork.Stats) bool { return s.Idle == 2 })
	for range 3 {
		if _, err := c.get("/pid"); err != nil {
			t.Fatal(err)
		}
	}
	c.waitStats("the requests reported", func(s prefork.Stats) bool { return s.Requests >= 3 })
	// Config.Metrics: the /pid counts of both workers summed, and each
	// worker's constant 7.
	c.waitStats("the workers' metrics summed", func(s prefork.Stats) bool { return s.Counts[0] == 3 && s.Counts[1] == 14 })
	body, err := c.get("/status")
	if err != nil {
		t.Fatal(err)
	}
	var st prefork.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/status = %q: %v", body, err)
	}
	if st.Start.IsZero() || len(st.Workers) != 2 || st.Stats.Requests < 3 || st.Stats.Idle != 2 {
		t.Errorf("status %+v, want a start time, 2 idle workers and at least 3 requests", st)
	}
	for _, w := range st.Workers {
		if w.PID <= 0 || w.State != "idle" || w.Start.Before(st.Start) {
			t.Errorf("worker %+v, want an idle worker started after the master", w)
		}
	}
	c.stop()
}

func TestReadStatusOutsideAWorker(t *testing.T) {
	if _, err := prefork.ReadStatus(); err == nil || !strings.HasPrefix(err.Error(), "prefork: ReadStatus outside a worker") {
		t.Errorf("ReadStatus in the test process = %v, want an error saying it is not a worker", err)
	}
}

func TestMaxRequestsRecyclesWorkers(t *testing.T) {
	const maxChildren, maxRequests, clients, perClient = 3, 5, 4, 50
	c := startCluster(t, fmt.Sprintf("2,3,%d,%d", maxChildren, maxRequests))
	ready := c.waitStats("workers ready", func(s prefork.Stats) bool { return s.Idle >= 2 })
	// The master reads the TCP socket's accept queue from its bare descriptor (Linux only).
	if runtime.GOOS == "linux" && ready.ListenQueueLen <= 0 {
		t.Errorf("Stats.ListenQueueLen = %d on a TCP socket, want its backlog", ready.ListenQueueLen)
	}
	pids, failures := c.load(clients, perClient, nil, nil)
	for _, err := range failures {
		t.Errorf("request failed: %v", err)
	}
	if len(pids) != clients*perClient {
		t.Errorf("%d requests answered, want %d", len(pids), clients*perClient)
	}
	// Without recycling at most MaxChildren workers could ever have answered.
	byPid := distinct(pids)
	if len(byPid) <= maxChildren {
		t.Errorf("%d workers served %d requests with MaxRequests %d: %v", len(byPid), len(pids), maxRequests, byPid)
	}
	c.waitStats("recycled workers to exit", func(s prefork.Stats) bool { return s.Stopping == 0 })
	c.mu.Lock()
	if s := c.lastLocked(); s.Crashed != 0 {
		t.Errorf("recycling counted %d crashes", s.Crashed)
	}
	c.mu.Unlock()
	t.Logf("%d requests served by %d workers", len(pids), len(byPid))
	c.stop()
}

func TestSIGHUPRestartsWithoutLosingRequests(t *testing.T) {
	c := startCluster(t, "2,3,6,0")
	c.waitStats("workers ready", func(s prefork.Stats) bool { return s.Idle >= 2 })

	var mu sync.Mutex
	before := make(map[string]bool)
	var after []string
	phase := 0 // 0 before SIGHUP, 1 during the restart, 2 once it is over
	stop := make(chan struct{})
	got := make(chan struct{}, 1)
	onPid := func(pid string) {
		mu.Lock()
		defer mu.Unlock()
		switch phase {
		case 0:
			before[pid] = true
		case 2:
			after = append(after, pid)
		}
		select {
		case got <- struct{}{}:
		default:
		}
	}
	type result struct {
		pids     []string
		failures []error
	}
	done := make(chan result)
	go func() {
		pids, failures := c.load(3, 3000, stop, onPid)
		done <- result{pids, failures}
	}()
	<-got
	mu.Lock()
	phase = 1
	mu.Unlock()
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	c.waitStats("the old generation to exit", func(s prefork.Stats) bool {
		return s.Generation == 1 && s.Retiring == 0 && s.Stopping == 0 && s.Idle+s.Busy >= 2
	})
	mu.Lock()
	phase = 2
	mu.Unlock()
	// Let the loop run on the new generation for a while, bounded in count.
	for range 50 {
		<-got
	}
	close(stop)
	r := <-done
	for _, err := range r.failures {
		t.Errorf("request failed: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(before) == 0 || len(after) == 0 {
		t.Fatalf("%d pids before the restart, %d requests after it", len(before), len(after))
	}
	for _, pid := range after {
		if before[pid] {
			t.Errorf("pid %s served before SIGHUP and again after the restart finished", pid)
			break
		}
	}
	t.Logf("%d requests, %d failed; pids before %v, after %v", len(r.pids), len(r.failures), keys(before), keys(distinct(after)))
	c.stop()
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestKilledWorkerIsReplaced(t *testing.T) {
	c := startCluster(t, "2,3,6,0")
	c.waitStats("workers ready", func(s prefork.Stats) bool { return s.Idle >= 2 })
	pidText, err := c.get("/pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(pidText)
	c.client.CloseIdleConnections()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.waitStats("the killed worker to be replaced", func(s prefork.Stats) bool {
		return s.Crashed == 1 && s.Idle >= 2
	})
	c.wait("the crash to be logged", func() bool {
		// The count depends on whether its last load report got out.
		return strings.Contains(c.stderr.String(), "prefork: worker pid "+pidText+": signal: killed after ")
	})
	pids, failures := c.load(2, 20, nil, nil)
	for _, err := range failures {
		t.Errorf("request after the kill failed: %v", err)
	}
	if n := distinct(pids)[pidText]; n != 0 {
		t.Errorf("the killed worker %s answered %d requests", pidText, n)
	}
	c.stop()
}

func TestShutdownDrainsInFlightRequests(t *testing.T) {
	c := startCluster(t, "2,3,6,0")
	c.waitStats("workers ready", func(s prefork.Stats) bool { return s.Idle >= 2 })
	h := c.hold()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The master has told every worker to stop; the one holding the request
	// must still be there, draining.
	c.waitStats("workers to be told to stop", func(s prefork.Stats) bool {
		return s.Idle+s.Busy+s.Starting == 0 && s.Stopping >= 1
	})
	c.mu.Lock()
	exited := c.exited
	c.mu.Unlock()
	if exited {
		t.Fatal("the master exited with a request in flight")
	}
	rest, err := h.release()
	if err != nil || rest != "done\n" {
		t.Errorf("the in-flight request ended with %q, %v; want done", rest, err)
	}
	c.wait("the master to exit", func() bool { return c.exited })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.returned != "<nil>" {
		t.Errorf("Master returned %q, want <nil>", c.returned)
	}
}

func TestCrashLoopBacksOffAndGivesUp(t *testing.T) {
	c := startCluster(t, "2,3,6,0", workerModeEnv+"=crash")
	c.wait("the master to give up", func() bool { return c.exited })
	c.mu.Lock()
	defer c.mu.Unlock()
	if !strings.Contains(c.returned, "prefork: 5 workers in a row exited before becoming ready") ||
		!strings.Contains(c.returned, "exit status 3") {
		t.Errorf("Master returned %q, want it to give up after 5 failed workers", c.returned)
	}
	var delays []time.Duration
	for _, line := range strings.Split(c.stderr.String(), "\n") {
		if d, ok := strings.CutPrefix(line, "prefork: next worker start in "); ok {
			delay, err := time.ParseDuration(d)
			if err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			delays = append(delays, delay)
		}
	}
	if len(delays) != 4 {
		t.Fatalf("%d backoff delays logged, want 4 (before the 2nd to 5th start): %v", len(delays), delays)
	}
	for i := 1; i < len(delays); i++ {
		if delays[i] <= delays[i-1] {
			t.Errorf("backoff delays %v do not grow", delays)
		}
	}
	if s := c.lastLocked(); s.Started != 5 {
		t.Errorf("%d workers started, want 5: one at a time after the first failure", s.Started)
	}
}

func TestWorkersDieWithTheMaster(t *testing.T) {
	c := startCluster(t, "2,3,6,0")
	c.waitStats("workers ready", func(s prefork.Stats) bool { return s.Idle >= 2 })
	c.client.Transport.(*http.Transport).DisableKeepAlives = true
	pids := make(map[int]bool)
	for i := 0; i < 200 && len(pids) < 2; i++ {
		text, err := c.get("/pid")
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(text)
		pids[pid] = true
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.wait("the master to die", func() bool { return c.exited })
	deadline := time.Now().Add(waitLimit)
	for pid := range pids {
		// Signal 0 only checks that the process exists; an orphaned worker
		// is reaped by init as soon as it exits.
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				t.Fatalf("worker pid %d outlived its master", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("worker pid %d: %v, want it gone", pid, err)
		}
	}
}

// TestUnixSocketSurvivesRecycling checks that a worker going away does not
// take the socket file with it, and that the master leaves it too when it
// stops (Master's documentation: its caller removes it).
func TestUnixSocketSurvivesRecycling(t *testing.T) {
	// Not t.TempDir: its path can exceed the 108 bytes of a socket address.
	dir, err := os.MkdirTemp("", "prefork")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := dir + "/app.sock"
	const maxRequests = 3
	c := startCluster(t, fmt.Sprintf("2,3,4,%d", maxRequests), socketEnv+"="+path)
	if s := c.waitStats("workers ready", func(s prefork.Stats) bool { return s.Idle >= 2 }); s.ListenQueueLen != 0 {
		t.Errorf("Stats.ListenQueueLen = %d on a unix socket, want 0 (no TCP_INFO)", s.ListenQueueLen)
	}
	pids, failures := c.load(2, 15, nil, nil)
	for _, err := range failures {
		t.Errorf("request failed: %v", err)
	}
	if n := len(distinct(pids)); n <= 4 {
		t.Errorf("%d workers served %d requests with MaxRequests %d: not recycled", n, len(pids), maxRequests)
	}
	c.waitStats("recycled workers to exit", func(s prefork.Stats) bool { return s.Stopping == 0 })
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("after recycling workers: %v", err)
	}
	if _, err := c.get("/pid"); err != nil {
		t.Errorf("after recycling workers: %v", err)
	}
	c.stop()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Type() != fs.ModeSocket {
		t.Errorf("after the master stopped: stat %s: %v, %v; want the socket file left for the caller", path, fi, err)
	}
}
