package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Line is one run as a JSON line: the raw output of a benchmark and the
// input of Summarize.
type Line struct {
	// Target labels the server ("transport", "aekit", "kserve", …); Model
	// labels the model (not necessarily its served name).
	Target, Model string
	Protocol      Protocol
	Clients       int
	Sent, OK      int
	Errors        int
	Cut           bool    `json:",omitempty"`
	Throughput    float64 // OK responses per second
	P50ms, P90ms  float64
	P99ms, MaxMs  float64
	// MeanBatch is the server's mean batch size, absent when not measured.
	MeanBatch  *float64       `json:",omitempty"`
	Statuses   map[string]int `json:",omitempty"`
	FirstError string         `json:",omitempty"`
}

// NewLine converts a Result.
func NewLine(target, model string, r Result) Line {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	l := Line{
		Target: target, Model: model, Protocol: r.Protocol, Clients: r.Clients,
		Sent: r.Sent, OK: r.OK, Errors: r.Errors, Cut: r.Cut,
		Throughput: math.Round(r.Throughput*10) / 10,
		P50ms:      ms(r.P50), P90ms: ms(r.P90), P99ms: ms(r.P99), MaxMs: ms(r.Max),
		FirstError: r.FirstError,
	}
	if !math.IsNaN(r.MeanBatch) {
		mb := math.Round(r.MeanBatch*100) / 100
		l.MeanBatch = &mb
	}
	if r.Errors > 0 {
		l.Statuses = r.Statuses
	}
	return l
}

// String is the line as a person reads it.
func (l Line) String() string {
	mb := "-"
	if l.MeanBatch != nil {
		mb = fmt.Sprintf("%.2f", *l.MeanBatch)
	}
	s := fmt.Sprintf("%-14s %-6s %-6s c=%-3d ok=%d err=%d  %8.1f req/s  p50 %7.3f ms  p90 %7.3f ms  p99 %7.3f ms  max %7.3f ms  batch %s",
		l.Target, l.Model, l.Protocol, l.Clients, l.OK, l.Errors, l.Throughput, l.P50ms, l.P90ms, l.P99ms, l.MaxMs, mb)
	if l.Cut {
		s += "  (cut by the time limit)"
	}
	if l.FirstError != "" {
		s += "  first error: " + l.FirstError
	}
	return s
}

// ReadLines reads the JSON lines of r, skipping lines that are not JSON
// objects (a raw benchmark file also holds headings and server logs).
func ReadLines(r io.Reader) ([]Line, error) {
	var out []Line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(t, "{") {
			continue
		}
		var l Line
		if err := json.Unmarshal([]byte(t), &l); err != nil || l.Target == "" {
			continue
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// Median merges the lines of repeated runs (same target, model, protocol
// and clients, e.g. from several rounds) into one, in first-seen order:
// the median throughput, latencies and mean batch (each on its own, the
// upper median for an even count), the sums of the counts, Cut if any run
// was cut, and the first error.
func Median(lines []Line) []Line {
	type key struct {
		target, model string
		protocol      Protocol
		clients       int
	}
	groups := map[key][]Line{}
	var order []key
	for _, l := range lines {
		k := key{l.Target, l.Model, l.Protocol, l.Clients}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], l)
	}
	med := func(ls []Line, f func(Line) float64) float64 {
		v := make([]float64, len(ls))
		for i, l := range ls {
			v[i] = f(l)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	out := make([]Line, 0, len(order))
	for _, k := range order {
		ls := groups[k]
		m := ls[0]
		m.Sent, m.OK, m.Errors, m.Statuses = 0, 0, 0, nil
		for _, l := range ls {
			m.Sent += l.Sent
			m.OK += l.OK
			m.Errors += l.Errors
			m.Cut = m.Cut || l.Cut
			if m.FirstError == "" {
				m.FirstError = l.FirstError
			}
		}
		m.Throughput = med(ls, func(l Line) float64 { return l.Throughput })
		m.P50ms = med(ls, func(l Line) float64 { return l.P50ms })
		m.P90ms = med(ls, func(l Line) float64 { return l.P90ms })
		m.P99ms = med(ls, func(l Line) float64 { return l.P99ms })
		m.MaxMs = med(ls, func(l Line) float64 { return l.MaxMs })
		var batches []Line
		for _, l := range ls {
			if l.MeanBatch != nil {
				batches = append(batches, l)
			}
		}
		if len(batches) > 0 {
			b := med(batches, func(l Line) float64 { return *l.MeanBatch })
			m.MeanBatch = &b
		}
		out = append(out, m)
	}
	return out
}

// Roles names the targets Summarize compares.
type Roles struct {
	// Served is the server under test, Transport its transport limit,
	// Unbatched the same server with batching off.
	Served, Transport, Unbatched string
	// Peers are the competitors (e.g. one per configuration).
	Peers []string
}

// hasRole reports whether any of the roles' targets is in m.
func hasRole(m map[string]Line, roles Roles) bool {
	for _, t := range append([]string{roles.Served, roles.Transport, roles.Unbatched}, roles.Peers...) {
		if _, ok := m[t]; ok {
			return true
		}
	}
	return false
}

// Summarize merges repeated runs (Median) and writes one row per (model,
// protocol, clients): each role's throughput and p99, the served server's
// mean batch, served throughput as a percentage of the transport limit,
// the served/peer throughput ratio for each peer and the gain of batching
// (served/unbatched throughput). A role absent from the lines prints "-".
func Summarize(w io.Writer, lines []Line, roles Roles) error {
	lines = Median(lines)
	type key struct {
		model    string
		protocol Protocol
		clients  int
	}
	byKey := map[key]map[string]Line{}
	var keys []key
	for _, l := range lines {
		k := key{l.Model, l.Protocol, l.Clients}
		if byKey[k] == nil {
			byKey[k] = map[string]Line{}
			keys = append(keys, k)
		}
		byKey[k][l.Target] = l
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"model", "proto", "clients", "transport req/s", roles.Served + " req/s", "p99 ms", "batch", "no-batch req/s", "p99 ms"}
	for _, p := range roles.Peers {
		head = append(head, p+" req/s", "p99 ms")
	}
	head = append(head, "% of transport")
	for _, p := range roles.Peers {
		head = append(head, "× "+p)
	}
	head = append(head, "batching gain")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	num := func(m map[string]Line, target string, f func(Line) float64, format string) string {
		l, ok := m[target]
		if !ok || l.OK == 0 {
			return "-"
		}
		return fmt.Sprintf(format, f(l))
	}
	ratio := func(m map[string]Line, a, b string, scale float64, format string) string {
		la, oka := m[a]
		lb, okb := m[b]
		if !oka || !okb || la.OK == 0 || lb.Throughput == 0 {
			return "-"
		}
		return fmt.Sprintf(format, scale*la.Throughput/lb.Throughput)
	}
	thr := func(l Line) float64 { return l.Throughput }
	p99 := func(l Line) float64 { return l.P99ms }
	for _, k := range keys {
		m := byKey[k]
		if !hasRole(m, roles) {
			continue // e.g. only sweep targets: in the table below
		}
		batch := "-"
		if l, ok := m[roles.Served]; ok && l.MeanBatch != nil {
			batch = fmt.Sprintf("%.2f", *l.MeanBatch)
		}
		row := []string{k.model, string(k.protocol), fmt.Sprint(k.clients),
			num(m, roles.Transport, thr, "%.0f"),
			num(m, roles.Served, thr, "%.0f"), num(m, roles.Served, p99, "%.2f"), batch,
			num(m, roles.Unbatched, thr, "%.0f"), num(m, roles.Unbatched, p99, "%.2f")}
		for _, p := range roles.Peers {
			row = append(row, num(m, p, thr, "%.0f"), num(m, p, p99, "%.2f"))
		}
		row = append(row, ratio(m, roles.Served, roles.Transport, 100, "%.0f%%"))
		for _, p := range roles.Peers {
			row = append(row, ratio(m, roles.Served, p, 1, "%.1f×"))
		}
		row = append(row, ratio(m, roles.Served, roles.Unbatched, 1, "%.2f×"))
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Targets outside the roles (e.g. a sweep of batching flags): one row each.
	var others []Line
	for _, l := range lines {
		switch {
		case l.Target == roles.Served, l.Target == roles.Transport, l.Target == roles.Unbatched, slices.Contains(roles.Peers, l.Target):
		default:
			others = append(others, l)
		}
	}
	if len(others) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "target\tmodel\tproto\tclients\treq/s\tp50 ms\tp99 ms\tbatch\t\n")
		for _, l := range others {
			batch := "-"
			if l.MeanBatch != nil {
				batch = fmt.Sprintf("%.2f", *l.MeanBatch)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f\t%.2f\t%.2f\t%s\t\n", l.Target, l.Model, l.Protocol, l.Clients, l.Throughput, l.P50ms, l.P99ms, batch)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	var failed []string
	for _, l := range lines {
		if l.Errors > 0 || l.Cut {
			failed = append(failed, fmt.Sprintf("%s %s %s c=%d: %d errors%s %s", l.Target, l.Model, l.Protocol, l.Clients, l.Errors, map[bool]string{true: " (cut)"}[l.Cut], l.FirstError))
		}
	}
	slices.Sort(failed)
	for _, f := range failed {
		fmt.Fprintln(w, "errors:", f)
	}
	return nil
}
