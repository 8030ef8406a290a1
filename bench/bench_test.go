package main

import (
	"testing"

	"github.com/gopear/gopear/internal/jsref"
)

// TestCencMessageMatchesJS checks that the Go side of the cenc workload
// encodes the very bytes the JS side does, so the two rates compare the
// same work.
func TestCencMessageMatchesJS(t *testing.T) {
	jsref.Require(t)
	if err := checkCencAgainstJS(sampleDataMessage()); err != nil {
		t.Fatal(err)
	}
}

// TestWorkloadsComplete checks that every registered workload can be run on
// both sides and has a name and unit to print.
func TestWorkloadsComplete(t *testing.T) {
	if len(workloads) == 0 {
		t.Fatal("no workloads registered")
	}
	seen := map[string]bool{}
	for _, w := range workloads {
		if w.name == "" || w.unit == "" || w.goRun == nil || w.jsRun == nil {
			t.Errorf("workload %q is incomplete", w.name)
		}
		if seen[w.name] {
			t.Errorf("workload %q registered twice", w.name)
		}
		seen[w.name] = true
	}
}
