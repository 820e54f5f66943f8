package main

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// hashWorkers returns the queue of the process's scrypt workers, starting them on first use: one
// per CPU, each pinned to its own OS thread of lower scheduling priority, with GOMAXPROCS raised
// by as many. Each hash holds a core for tens of milliseconds; were hashes run on the request
// goroutines, a flood of sign-ins would take every P and other requests would wait for the Go
// scheduler's 10 ms preemption. This way the rest of the server keeps a P per CPU, the kernel
// runs its threads before the workers', and the workers still take whatever CPU is left, so
// sign-in throughput is that of every core while get-session's latency barely moves. The queue
// is unbuffered: a job waits until a worker takes it, which bounds the hashes (and their ~32 MB
// each) in flight. The workers are the process's, as the CPUs are, shared by every server.
var hashWorkers = sync.OnceValue(func() chan func() {
	n := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(2 * n)
	jobs := make(chan func())
	for range n {
		go hashWorker(jobs)
	}
	return jobs
})

func hashWorker(jobs <-chan func()) {
	// Never unlocked: an unprivileged thread cannot raise its priority back, so this thread must
	// run nothing but hashes.
	runtime.LockOSThread()
	lowerThreadPriority()
	for job := range jobs {
		job()
		for busy := true; busy; {
			select {
			case next := <-jobs:
				next()
			default:
				busy = false
			}
		}
		// Idle: every hash left ~32 MB of garbage, and the heap a burst of sign-ins grew would
		// otherwise stay resident until Go's next forced collection, two minutes on. One small
		// collection per burst (or per sign-in, when they come one at a time) is cheap beside a
		// hash.
		debug.FreeOSMemory()
	}
}
