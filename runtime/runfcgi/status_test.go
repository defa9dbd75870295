package runfcgi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var testView = poolView{
	Pool: "mysite", Manager: "prefork", Start: time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC),
	Accepted: 1234, ListenQueue: 1, MaxListenQueue: 7, ListenQueueLen: 4096,
	Idle: 1, Active: 1, Total: 2, MaxActive: 2, MaxChildrenReached: 3, Slow: 4, Timeouts: 5, InFlight: 3, Ready: 2,
	Procs: []procView{
		{PID: 101, State: "Idle", Start: time.Date(2026, 12, 5, 18, 0, 1, 0, time.UTC), Requests: 600},
		{PID: 102, State: "Running", Start: time.Date(2026, 12, 5, 18, 0, 1, 0, time.UTC), Requests: 634, InFlight: 3},
	},
}

var testNow = time.Date(2026, 12, 5, 18, 1, 40, 0, time.UTC)

func TestStatusText(t *testing.T) {
	want := `pool:                 mysite
process manager:      prefork
start time:           05/Dec/2026:18:00:00 +0000
start since:          100
accepted conn:        1234
listen queue:         1
max listen queue:     7
listen queue len:     4096
idle processes:       1
active processes:     1
total processes:      2
max active processes: 2
max children reached: 3
slow requests:        4
`
	if got := statusText(testView, false, testNow); got != want {
		t.Errorf("status text:\n%s\nwant:\n%s", got, want)
	}
	full := statusText(testView, true, testNow)
	if !strings.HasPrefix(full, want) || strings.Count(full, "************************\n") != 2 ||
		!strings.Contains(full, "pid:                  102\nstate:                Running\n") {
		t.Errorf("?full:\n%s", full)
	}
}

// php-fpm's JSON keys, as its exporters read them.
func TestStatusJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	writeStatus(rec, httptest.NewRequest("GET", "/status?json&full", nil), testView)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{
		"accepted conn": 1234, "listen queue": 1, "max listen queue": 7, "listen queue len": 4096,
		"idle processes": 1, "active processes": 1, "total processes": 2, "max active processes": 2,
		"max children reached": 3, "slow requests": 4, "start time": float64(testView.Start.Unix()),
	} {
		if m[k] != want {
			t.Errorf("%q = %v, want %v", k, m[k], want)
		}
	}
	if m["pool"] != "mysite" || m["process manager"] != "prefork" {
		t.Errorf("pool, process manager = %v, %v", m["pool"], m["process manager"])
	}
	if procs, _ := m["processes"].([]any); len(procs) != 2 {
		t.Errorf("processes = %v, want 2 with ?full", m["processes"])
	}
}

// checkOpenMetrics checks the rules of the OpenMetrics text format that
// the pages here could break: every sample belongs to a family declared
// before it with HELP and TYPE, counters' samples end in _total, and the
// exposition ends with # EOF.
func checkOpenMetrics(t *testing.T, text string) {
	t.Helper()
	if !strings.HasSuffix(text, "\n# EOF\n") {
		t.Errorf("does not end with # EOF:\n%s", text)
	}
	types := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n# EOF\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			types[f[0]] = f[1]
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		family, typ := name, ""
		for _, suffix := range []string{"", "_total", "_bucket", "_count", "_sum"} {
			if f, ok := strings.CutSuffix(name, suffix); ok && types[f] != "" {
				family, typ = f, types[f]
				break
			}
		}
		switch {
		case typ == "":
			t.Errorf("sample %q before its family's TYPE", line)
		case typ == "counter" && name != family+"_total":
			t.Errorf("counter sample %q lacks _total", line)
		case typ == "histogram" && name == family:
			t.Errorf("histogram sample %q lacks _bucket, _count or _sum", line)
		case typ == "gauge" && name != family:
			t.Errorf("gauge sample %q has a suffix", line)
		}
	}
}

func TestStatusOpenMetrics(t *testing.T) {
	text := statusOpenMetrics(testView, testNow)
	checkOpenMetrics(t, text)
	for _, want := range []string{"phpfpm_up 1\n", "phpfpm_accepted_connections_total 1234\n", "phpfpm_listen_queue_length 4096\n", "phpfpm_slow_requests_total 4\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
}

func TestAdminMetrics(t *testing.T) {
	var rc recorder
	rc.record(200, 3*time.Millisecond)
	rc.record(204, 30*time.Millisecond)
	rc.record(503, time.Minute)
	rc.record(99, time.Millisecond) // no class: only its duration counts
	v := testView
	v.Counts = rc.snapshot()
	text := adminMetrics(v)
	checkOpenMetrics(t, text)
	for _, want := range []string{"appgen_requests_total 1234\n", "appgen_requests_in_flight 3\n", "appgen_request_timeouts_total 5\n",
		`appgen_workers{model="prefork",state="active"} 1` + "\n",
		`appgen_responses_total{code="2xx"} 2` + "\n", `appgen_responses_total{code="5xx"} 1` + "\n",
		`appgen_request_duration_seconds_bucket{le="0.005"} 2` + "\n", `appgen_request_duration_seconds_bucket{le="0.05"} 3` + "\n",
		`appgen_request_duration_seconds_bucket{le="10"} 3` + "\n", `appgen_request_duration_seconds_bucket{le="+Inf"} 4` + "\n",
		"appgen_request_duration_seconds_count 4\n", "appgen_request_duration_seconds_sum 60.034\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
}

// TestMetricsWriter: a counter's sample is NAME_total, labels come in the
// order given, and a label value's backslash, quote and newline are escaped
// as OpenMetrics reads them (a raw newline would end the sample early).
func TestMetricsWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(m *metricsWriter)
		want  string
	}{
		{"counter", func(m *metricsWriter) { m.metric("x", "counter", "Xs.", 3) },
			"# HELP x Xs.\n# TYPE x counter\nx_total 3\n# EOF\n"},
		{"gauge", func(m *metricsWriter) { m.metric("y", "gauge", "Ys.", 1.5) },
			"# HELP y Ys.\n# TYPE y gauge\ny 1.5\n# EOF\n"},
		{"labels", func(m *metricsWriter) {
			m.family("z", "gauge", "Zs.")
			m.sample("", 2, "model", "prefork", "state", "idle")
		}, "# HELP z Zs.\n# TYPE z gauge\nz{model=\"prefork\",state=\"idle\"} 2\n# EOF\n"},
		{"escaped label value", func(m *metricsWriter) {
			m.family("z", "gauge", "Zs.")
			m.sample("", 1, "pool", "a\\b\"c\nd")
		}, "# HELP z Zs.\n# TYPE z gauge\nz{pool=\"a\\\\b\\\"c\\nd\"} 1\n# EOF\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m metricsWriter
			tt.write(&m)
			if got := m.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			checkOpenMetrics(t, m.String())
		})
	}
}
