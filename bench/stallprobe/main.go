//go:build linux

// Command stallprobe counts the moments a CPU of this machine ran nothing at all, so that
// bench/run.sh can tell the host's stalls from the servers' own. One thread per CPU, pinned to it
// at a real-time priority (SCHED_FIFO), sleeps 10 ms at a time in the kernel and notes every wake
// that comes 50 ms or more after the last: nothing in the machine outranks such a thread, so a
// gap that long means the CPU itself did not run (on the VMs BENCHMARKS.md was measured on, the
// host throttling a busy vCPU for a whole 100 ms period: "The host's 100 ms stalls" there).
// It is not part of authsidecar.
//
// Usage: stallprobe DURATION. After DURATION (or at SIGTERM or SIGINT) it prints one line,
// "STALLS <count> <longest ms>", or "STALLS - -" when it may not take a real-time priority (not
// root), since then a late wake may be the machine's own scheduling.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	nap   = 10 * time.Millisecond
	stall = 50 * time.Millisecond
)

type tally struct {
	mu      sync.Mutex
	count   int
	longest time.Duration
}

func (t *tally) note(gap time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count++
	t.longest = max(t.longest, gap)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stallprobe DURATION")
		os.Exit(2)
	}
	d, err := time.ParseDuration(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "stallprobe:", err)
		os.Exit(2)
	}
	cpus := runtime.NumCPU()
	// A P for every watcher returning from its sleep and one for main, so that no watcher waits
	// for the Go scheduler after its wake.
	runtime.GOMAXPROCS(cpus + 1)
	var t tally
	ready := make(chan bool, cpus)
	for cpu := range cpus {
		go watch(cpu, &t, ready)
	}
	realtime := true
	for range cpus {
		realtime = <-ready && realtime
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-time.After(d):
	case <-stop:
	}
	if !realtime {
		fmt.Println("STALLS - -")
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Printf("STALLS %d %.0f\n", t.count, float64(t.longest)/float64(time.Millisecond))
}

// watch pins its thread to cpu at SCHED_FIFO, says on ready whether it could, and then notes the
// gaps between its wakes for good.
func watch(cpu int, t *tally, ready chan<- bool) {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(cpu)
	ok := unix.SchedSetaffinity(0, &set) == nil &&
		unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 10}, 0) == nil
	ready <- ok
	ts := unix.NsecToTimespec(int64(nap))
	last := time.Now()
	for {
		// Nanosleep rather than time.Sleep: the wake is the kernel's, at this thread's priority,
		// not the Go runtime's timer on whichever thread runs it.
		_ = unix.Nanosleep(&ts, nil)
		now := time.Now()
		if gap := now.Sub(last); gap >= stall {
			t.note(gap)
		}
		last = now
	}
}
