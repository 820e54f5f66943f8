package main

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hashChildAttr starts the hashing process in a session of its own. With autogroup scheduling
// (sched_autogroup_enabled, on in most distributions' kernels) the kernel first shares the CPUs
// fairly between sessions, and only then by nice value within each: a nice value alone ranked the
// hashes below the server's threads but not below Postgres, in a session of its own, whose queries
// then waited 100 ms–1.3 s behind the hashes now and then (BENCHMARKS.md, "Sessions of their
// own, a short slice and a spare slot"). The hashing session's own nice value
// (lowerProcessPriority) ranks it below the others.
func hashChildAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// hashNice is the hashing process's nice value: the kernel gives a busy nice-0 thread about ten
// times its share of a core, yet hashes are not starved when requests keep the cores busy.
const hashNice = 10

// hashSlice is the hashing threads' time slice (Linux 6.12 and later; earlier kernels ignore
// it). Since 6.6 a waking thread preempts a running one only once the latter's slice is used up,
// unless its own slice is shorter: with the default slice (about 3 ms on two CPUs), each wake-up
// of a request's threads, the server's and Postgres's, could wait that long behind a hash. 0.1 ms
// is the shortest the kernel takes; the hashes' share of the CPUs stays their nice value's.
const hashSlice = 100 * time.Microsecond

// lowerProcessPriority sets the nice value of this process's autogroup, where the kernel has
// autogroups, and the nice value and time slice of every thread of this process, and with pinned
// its CPUs: the last alone (pinHashThread). On Linux all three belong to a thread, and a new
// thread inherits its creator's: once every thread the runtime has started is set, so is every
// later one. A thread started while the list is read is caught by the next pass.
func lowerProcessPriority(pinned bool) {
	var last unix.CPUSet
	if all := hashCPUs(); pinned && all.Count() > 1 {
		last = pinnedCPUs(all, pinLast)
		// Set, GOMAXPROCS no longer follows the CPUs this process may use: on the last CPU
		// alone the runtime would lower it to 1, and the spare's hash, on the others, would wait
		// for the core slot's to end (sign-ins alone ran at half the rate).
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	}
	// Only in a session of its own (hashChildAttr): the autogroup is the session's, and the
	// server's must keep its priority.
	if sid, err := unix.Getsid(0); err == nil && sid == os.Getpid() {
		err := os.WriteFile("/proc/self/autogroup", []byte(strconv.Itoa(hashNice)), 0)
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // a kernel without autogroups has no file
			slog.Warn("lower the hashing process's autogroup priority", "err", err)
		}
	}
	for range 3 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			slog.Warn("list the hashing process's threads", "err", err)
			return
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			lowerThreadPriority(tid)
			if last.Count() > 0 {
				_ = unix.SchedSetaffinity(tid, &last) // an error leaves the thread where it was
			}
		}
	}
}

// lowerThreadPriority sets one thread's nice value and slice, or its nice value alone where the
// kernel refuses sched_setattr.
func lowerThreadPriority(tid int) {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Nice: hashNice, Runtime: uint64(hashSlice)}
	err := unix.SchedSetAttr(tid, &attr, 0)
	if err == nil || err == unix.ESRCH { // ESRCH: it has ended
		return
	}
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, hashNice); err != nil && err != syscall.ESRCH {
		slog.Warn("lower the hashing thread's priority", "err", err)
	}
}

// hashCPUs is the CPUs this process may use, read before lowerProcessPriority pins any thread.
var hashCPUs = sync.OnceValue(func() unix.CPUSet {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return unix.CPUSet{}
	}
	return all
})

// pinHashThread keeps the calling goroutine on its thread and that thread on the CPUs pin names,
// of those this process may use (hashCPUs), until the returned function undoes both: pinLast the
// last alone, pinOthers the rest. Where the server pins its hashes, the whole hashing process
// runs on the last CPU (lowerProcessPriority), and only the spare's hash leaves it. Left to roam,
// the hash beside other requests ran on either CPU, and on two CPUs Postgres backends with a
// query to answer now and then waited 50–75 ms behind it although their priority is higher:
// get-session's p99 during a sign-in flood was 2.5–9.9× its p99 alone; with the process on the
// last CPU, 1.05–1.38× in six rounds, against 1.45–2.35× side by side with only the hash's
// thread pinned (BENCHMARKS.md, "… a hash beside other requests runs on one CPU"). With one CPU
// there is nothing to keep free, and a thread the kernel will not pin is left as it is.
func pinHashThread(pin hashPin) (unpin func()) {
	runtime.LockOSThread()
	var before unix.CPUSet
	all := hashCPUs()
	if all.Count() < 2 || unix.SchedGetaffinity(0, &before) != nil {
		return runtime.UnlockOSThread
	}
	set := pinnedCPUs(all, pin)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return runtime.UnlockOSThread
	}
	return func() {
		// Back where it was before the thread returns to the runtime's pool; should the kernel
		// refuse, the thread ends with the goroutine instead (an OS thread left locked exits).
		if unix.SchedSetaffinity(0, &before) == nil {
			runtime.UnlockOSThread()
		}
	}
}

// pinnedCPUs is the part of all that pin names: the last CPU, or all the others.
func pinnedCPUs(all unix.CPUSet, pin hashPin) unix.CPUSet {
	last := -1
	for cpu := range len(all) * 64 { // past the set's end IsSet is false
		if all.IsSet(cpu) {
			last = cpu
		}
	}
	var set unix.CPUSet
	if pin == pinLast {
		set.Set(last)
		return set
	}
	set = all
	set.Clear(last)
	return set
}
