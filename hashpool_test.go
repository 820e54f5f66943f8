package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// TestHashWorkersAddAPWhileBusyOnly proves that GOMAXPROCS is raised by one per busy hashing
// worker and falls back once they are idle: without sign-ins, requests run on no more Ps than
// there are CPUs.
func TestHashWorkersAddAPWhileBusyOnly(t *testing.T) {
	type procs struct{ busy, base, now int }
	read := func() procs {
		hashProcs.mu.Lock()
		defer hashProcs.mu.Unlock()
		return procs{hashProcs.busy, hashProcs.base, runtime.GOMAXPROCS(0)}
	}
	got := make(chan procs)
	hashWorkers() <- func() { got <- read() }
	during := <-got
	if during.busy < 1 || during.now != during.base+during.busy {
		t.Fatalf("while hashing: GOMAXPROCS %d with %d busy workers over a base of %d", during.now, during.busy, during.base)
	}
	// Other tests may be hashing too; the workers are idle at some moment, and then the count
	// is the base again.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		p := read()
		if p.busy == 0 {
			if p.now != p.base {
				t.Fatalf("idle: GOMAXPROCS %d, want the base %d", p.now, p.base)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hashing workers still busy after a minute: %+v", p)
		}
	}
}

// TestHashWorkersBoundMemory proves that no more hashes run at once than the memory budget holds
// (the workers are the semaphore: with all of them busy, no further job is taken) and that,
// unless GOMEMLIMIT says otherwise, the process has a soft memory limit above them.
func TestHashWorkersBoundMemory(t *testing.T) {
	jobs := hashWorkers()
	n := hashSlots()
	var running atomic.Int32
	release := make(chan struct{})
	for range n {
		go func() {
			jobs <- func() {
				running.Add(1)
				<-release
			}
		}()
	}
	for deadline := time.Now().Add(time.Minute); running.Load() < int32(n); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs running after a minute", running.Load(), n)
		}
	}
	select {
	case jobs <- func() {}:
		t.Errorf("a job beyond the %d in flight was taken", n)
	default:
	}
	close(release)
	if n*scryptMemory > hashMemoryBudget && n > 1 {
		t.Fatalf("%d hashes of %d bytes exceed the budget of %d", n, scryptMemory, hashMemoryBudget)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if limit := debug.SetMemoryLimit(-1); limit == math.MaxInt64 || limit < int64(n*scryptMemory) {
		t.Fatalf("memory limit %d, want at least the %d bytes of the hashes in flight", limit, n*scryptMemory)
	}
}
