package main

import (
	"log/slog"
	"syscall"
)

// hashNice is the hashing workers' nice value: the kernel gives a busy nice-0 thread about ten
// times their share of a core, yet they are not starved when requests keep it busy. Not lower:
// every collection stops the world, and the stop waits until each worker's thread gets a core to
// take its preemption signal, so the whole server inherits the workers' priority for that moment.
// Measured side by side on a loaded machine (BENCHMARKS.md), nice 19 lengthened those stops
// without a visible gain for get-session, and SCHED_IDLE (which requests preempt at once) stalled
// them up to 300 ms and cut sign-ins during a flood by half.
const hashNice = 10

// lowerThreadPriority sets the calling thread's nice value; on Linux, setpriority with a thread
// id applies to that thread alone.
func lowerThreadPriority() {
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), hashNice); err != nil {
		slog.Warn("lower the hashing thread's priority", "err", err)
	}
}
