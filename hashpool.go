package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"sync"
)

// scryptMemory is what one running hash holds: scrypt's V array, 128·r·N bytes (32 MiB at
// upstream's N=16384, r=16), plus a few KB of buffers.
const scryptMemory = 128 * scryptR * upstreamScryptN

// hashMemoryBudget bounds the memory of the hashes in flight: two at a time, 64 MiB. More
// would not hash faster on a small machine (each takes a core), and on a large one 32 MiB per
// core would make a sign-in flood the process's largest cost in memory.
const hashMemoryBudget = 64 << 20

// hashHeadroom is the Go memory the rest of the server may use before the collector runs harder
// than GOGC asks: a cookie-cache memo full of sessions, connection buffers, pgx's pool.
const hashHeadroom = 48 << 20

// hashWorkers returns the queue of the process's scrypt workers, starting them on first use:
// one per CPU up to the memory budget, each pinned to its own OS thread of lower scheduling
// priority. Each hash holds a core for tens of milliseconds; were hashes run on the request
// goroutines, a flood of sign-ins would take every P and other requests would wait for the Go
// scheduler's 10 ms preemption. So a worker that starts hashing adds a P for itself, and gives
// it back when it goes idle (hashProcs): the rest of the server keeps a P per CPU, the kernel runs
// its threads before the workers', and the workers still take whatever CPU is left, so sign-in
// throughput is that of every core while get-session's latency barely moves. Without sign-ins
// GOMAXPROCS stays at the CPU count: more Ps than cores only adds the kernel's time slicing to
// the tail of every request. The queue is unbuffered: a job waits until a worker takes it, so
// the workers are the semaphore that bounds the hashes (and their memory) in flight. The workers
// are the process's, as the CPUs are, shared by every server.
var hashWorkers = sync.OnceValue(func() chan func() {
	n := hashSlots()
	limitMemory(n)
	jobs := make(chan func())
	for range n {
		go hashWorker(jobs)
	}
	return jobs
})

// hashSlots is the number of hashing workers, and so of hashes in flight.
func hashSlots() int { return max(1, min(runtime.NumCPU(), hashMemoryBudget/scryptMemory)) }

// limitMemory sets a soft memory limit above the hashes in flight and the headroom, unless
// GOMEMLIMIT already set one. Each hash leaves 32 MiB of garbage; with GOGC alone the heap goal
// doubles the live heap, which, measured while the hashes held theirs, let a flood reach twice
// their memory before a collection (216 MB with two in flight). The limit makes the collector run
// before then; it never starves a live heap, which the workers bound below it.
func limitMemory(inFlight int) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return
	}
	debug.SetMemoryLimit(int64(hashHeadroom + inFlight*scryptMemory))
}

// hashProcs keeps GOMAXPROCS at the CPUs' count plus one per busy hashing worker.
var hashProcs struct {
	mu   sync.Mutex
	base int // GOMAXPROCS before any worker was busy
	busy int
}

// hashBusy adds (+1) or removes (-1) a busy worker's P. Changing GOMAXPROCS stops the world for
// a moment; it happens at the start and end of each burst of sign-ins, beside hashes of tens of
// milliseconds each.
func hashBusy(delta int) {
	hashProcs.mu.Lock()
	defer hashProcs.mu.Unlock()
	if hashProcs.busy == 0 && delta > 0 {
		hashProcs.base = runtime.GOMAXPROCS(0)
	}
	hashProcs.busy += delta
	runtime.GOMAXPROCS(hashProcs.base + hashProcs.busy)
}

func hashWorker(jobs <-chan func()) {
	// Never unlocked: an unprivileged thread cannot raise its priority back, so this thread must
	// run nothing but hashes.
	runtime.LockOSThread()
	lowerThreadPriority()
	for job := range jobs {
		hashBusy(+1)
		job()
		for busy := true; busy; {
			select {
			case next := <-jobs:
				next()
			default:
				busy = false
			}
		}
		hashBusy(-1)
		// Idle: every hash left ~32 MB of garbage, and the heap a burst of sign-ins grew would
		// otherwise stay resident until the scavenger returns it, minutes on. One small
		// collection per burst (or per sign-in, when they come one at a time) is cheap beside a
		// hash.
		debug.FreeOSMemory()
	}
}
