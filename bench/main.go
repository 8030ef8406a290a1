// Command bench runs the same workloads on gopear and on the pinned JS
// reference in one run, and prints each pair of figures with their ratio.
//
//	go run ./bench            # a table on stdout
//	go run ./bench -json      # the same as JSON
//	go run ./bench -run cenc  # only workloads whose name matches
//
// Each workload measures a rate (higher is better) on both sides: the Go side
// in this process, the JS side in a node process running a script under
// bench/js/ that prints one JSON line {"value": <rate>}. The ratio is Go/JS,
// or JS/Go for a workload where lower is better (peak memory), so a ratio
// above 1 always favours Go.
// The JS reference must be installed in interop/node_modules (`make test`
// or `npm ci` in interop/ does it).
//
// Both sides keep their files in one scratch folder that the bench makes
// in the system's temporary folder and removes when it ends: it is TMPDIR
// for this process and the processes it starts.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"text/tabwriter"
	"time"
)

// workload is one measurement taken on both sides.
type workload struct {
	name string  // what is measured, e.g. "cenc: encode+decode request message"
	unit string  // unit of both figures, a rate such as "msgs/s" or "MB/s"
	goal float64 // the Go/JS ratio the project aims for; 0 if none
	// lowerIsBetter marks a cost (such as peak memory) rather than a rate:
	// its ratio is JS/Go.
	lowerIsBetter bool
	goRun         func(ctx context.Context) (float64, error)
	jsRun         func(ctx context.Context) (float64, error)
}

var workloads []workload

// register adds a workload; bench files call it from init.
func register(w workload) { workloads = append(workloads, w) }

// result is one row of output.
type result struct {
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Go    float64 `json:"go"`
	JS    float64 `json:"js"`
	Ratio float64 `json:"ratio"`
	Goal  float64 `json:"goal,omitempty"`
	// LowerIsBetter: Ratio is JS/Go.
	LowerIsBetter bool   `json:"lowerIsBetter,omitempty"`
	Error         string `json:"error,omitempty"`
}

func main() {
	asJSON := flag.Bool("json", false, "print results as JSON")
	filter := flag.String("run", "", "run only workloads whose name matches this regexp")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := withScratch(func() error { return run(ctx, *filter, *asJSON) })
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// withScratch runs fn with TMPDIR set to a new scratch folder, which it
// removes afterwards.
func withScratch(fn func() error) error {
	dir, err := os.MkdirTemp("", "gopear-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Setenv("TMPDIR", dir); err != nil {
		return err
	}
	return fn()
}

func run(ctx context.Context, filter string, asJSON bool) error {
	re, err := regexp.Compile(filter)
	if err != nil {
		return err
	}
	var results []result
	failed := false
	for _, w := range workloads {
		if !re.MatchString(w.name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s ...\n", w.name)
		r := measure(ctx, w)
		if r.Error != "" {
			failed = true
			fmt.Fprintf(os.Stderr, "bench: %s: %s\n", w.name, r.Error)
		}
		results = append(results, r)
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		printTable(results)
	}
	if failed {
		return fmt.Errorf("some workloads failed")
	}
	return nil
}

func measure(ctx context.Context, w workload) result {
	r := result{Name: w.name, Unit: w.unit, Goal: w.goal, LowerIsBetter: w.lowerIsBetter}
	var err error
	if r.JS, err = w.jsRun(ctx); err != nil {
		r.Error = "js: " + err.Error()
		return r
	}
	if r.Go, err = w.goRun(ctx); err != nil {
		r.Error = "go: " + err.Error()
		return r
	}
	switch {
	case w.lowerIsBetter && r.Go > 0:
		r.Ratio = r.JS / r.Go
	case !w.lowerIsBetter && r.JS > 0:
		r.Ratio = r.Go / r.JS
	}
	return r
}

func printTable(results []result) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tunit\tGo\tJS\tGo/JS (JS/Go*)\tgoal\t")
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\t\n", r.Name, r.Unit, r.Error)
			continue
		}
		goal := "-"
		if r.Goal > 0 {
			goal = fmt.Sprintf("≥%.0fx", r.Goal)
		}
		mark := ""
		if r.LowerIsBetter {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2fx%s\t%s\t\n", r.Name, r.Unit, figure(r.Go), figure(r.JS), r.Ratio, mark, goal)
	}
	tw.Flush()
}

func figure(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// rate runs op in growing batches until at least d has passed and returns
// operations per second. op(n) performs n operations.
func rate(ctx context.Context, d time.Duration, op func(n int) error) (float64, error) {
	n := 1
	var total int
	var elapsed time.Duration
	for elapsed < d {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		start := time.Now()
		if err := op(n); err != nil {
			return 0, err
		}
		elapsed += time.Since(start)
		total += n
		if n < 1<<20 {
			n *= 2
		}
	}
	return float64(total) / elapsed.Seconds(), nil
}
