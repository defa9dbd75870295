package runfcgi

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/appgen/appgen/runtime/prefork"
)

// durationBuckets are the upper bounds of /metrics' request duration
// histogram (Prometheus client libraries' defaults); a last bucket takes
// everything slower.
var durationBuckets = []time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// The recorder's counts, in the order a prefork worker reports them to its
// master (prefork.Config.Metrics): responses by status class 1xx to 5xx,
// then requests per duration bucket (not cumulative, the last one beyond
// every bound), then the durations' sum in microseconds.
const (
	countClasses = 5
	countBuckets = countClasses
	countSum     = countBuckets + 12
	countLen     = countSum + 1
)

func init() {
	if len(durationBuckets)+1 != countSum-countBuckets || countLen > prefork.MaxCounters {
		panic("runfcgi: the recorder's layout does not fit its buckets or prefork.MaxCounters")
	}
}

// recorder counts responses by status and duration for /metrics: a few
// atomic additions per request, and only with admin= or status= given.
type recorder struct{ counts [countLen]atomic.Int64 }

func (rc *recorder) record(status int, d time.Duration) {
	if c := status/100 - 1; c >= 0 && c < countClasses {
		rc.counts[c].Add(1)
	}
	b := len(durationBuckets)
	for i, bound := range durationBuckets {
		if d <= bound {
			b = i
			break
		}
	}
	rc.counts[countBuckets+b].Add(1)
	rc.counts[countSum].Add(d.Microseconds())
}

func (rc *recorder) snapshot() []int64 {
	out := make([]int64, countLen)
	for i := range out {
		out[i] = rc.counts[i].Load()
	}
	return out
}

// writeCountMetrics writes responses by status class and the duration
// histogram to m, from counts in the recorder's layout.
func writeCountMetrics(m *metricsWriter, counts []int64) {
	if len(counts) < countLen {
		counts = append(counts, make([]int64, countLen-len(counts))...)
	}
	m.family("appgen_responses", "counter", "Responses by status class.")
	for c := range countClasses {
		m.sample("_total", counts[c], "code", strconv.Itoa(c+1)+"xx")
	}
	m.family("appgen_request_duration_seconds", "histogram", "How long handlers took.")
	var cum int64
	for i, bound := range durationBuckets {
		cum += counts[countBuckets+i]
		m.sample("_bucket", cum, "le", strconv.FormatFloat(bound.Seconds(), 'f', -1, 64))
	}
	cum += counts[countBuckets+len(durationBuckets)]
	m.sample("_bucket", cum, "le", "+Inf")
	m.sample("_count", cum)
	m.sample("_sum", strconv.FormatFloat(float64(counts[countSum])/1e6, 'f', -1, 64))
}
