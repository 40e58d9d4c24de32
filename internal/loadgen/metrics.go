package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Histogram is the sum and count of a Prometheus histogram, summed over all
// its label sets.
type Histogram struct {
	Sum, Count float64
}

// Sub returns h minus an earlier scrape of the same histogram.
func (h Histogram) Sub(earlier Histogram) Histogram {
	return Histogram{Sum: h.Sum - earlier.Sum, Count: h.Count - earlier.Count}
}

// Mean is Sum/Count, NaN when Count is 0.
func (h Histogram) Mean() float64 {
	if h.Count == 0 {
		return math.NaN()
	}
	return h.Sum / h.Count
}

// maxMetricsBody bounds how much of a /metrics answer is read.
const maxMetricsBody = 16 << 20

// ScrapeHistogram fetches url (Prometheus text format) and returns the
// histogram name's _sum and _count, each summed over its label sets. A
// histogram the page does not have is an error naming it.
func ScrapeHistogram(ctx context.Context, client *http.Client, url, name string) (Histogram, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Histogram{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Histogram{}, fmt.Errorf("loadgen: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Histogram{}, fmt.Errorf("loadgen: metrics %s: HTTP %d", url, resp.StatusCode)
	}
	h, found, err := ParseHistogram(io.LimitReader(resp.Body, maxMetricsBody), name)
	if err != nil {
		return Histogram{}, err
	}
	if !found {
		return Histogram{}, fmt.Errorf("loadgen: metrics %s: no histogram %q", url, name)
	}
	return h, nil
}

// ParseHistogram reads Prometheus text exposition from r and sums the
// samples of name_sum and name_count over their label sets; found reports
// whether name_count appeared.
func ParseHistogram(r io.Reader, name string) (h Histogram, found bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		metric, value, ok := splitSample(line)
		if !ok {
			continue
		}
		var dst *float64
		switch metric {
		case name + "_sum":
			dst = &h.Sum
		case name + "_count":
			dst = &h.Count
			found = true
		default:
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return h, found, fmt.Errorf("loadgen: metrics: %q: %w", line, err)
		}
		*dst += v
	}
	return h, found, sc.Err()
}

// splitSample splits `name{labels} value [timestamp]` into name and value.
func splitSample(line string) (name, value string, ok bool) {
	end := strings.IndexAny(line, "{ ")
	if end <= 0 {
		return "", "", false
	}
	name, rest := line[:end], line[end:]
	if rest[0] == '{' {
		// Label values may hold '}' inside quotes; find the closing brace
		// outside quotes.
		inQuote, esc := false, false
		close := -1
		for i := 1; i < len(rest); i++ {
			c := rest[i]
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inQuote = !inQuote
			case c == '}' && !inQuote:
				close = i
			}
			if close >= 0 {
				break
			}
		}
		if close < 0 {
			return "", "", false
		}
		rest = rest[close+1:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", "", false
	}
	return name, fields[0], true
}
