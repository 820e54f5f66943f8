package main

import (
	"log/slog"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// hashNice is the hashing workers' nice value: the kernel gives a busy nice-0 thread about ten
// times their share of a core, yet they are not starved when requests keep it busy. Not lower:
// every collection stops the world, and the stop waits until each worker's thread gets a core to
// take its preemption signal, so the whole server inherits the workers' priority for that moment.
// Measured side by side on a loaded machine (BENCHMARKS.md), nice 19 lengthened those stops
// without a visible gain for get-session, and SCHED_IDLE (which requests preempt at once) stalled
// them up to 300 ms and cut sign-ins during a flood by half.
const hashNice = 10

// hashSlice is the time slice the workers ask the kernel for, the longest it grants. Since Linux
// 6.6 (EEVDF) a thread that wakes does not preempt the running one, whatever their nice values,
// until the running one has had its slice; a request thread waking behind a worker waited out
// the worker's few milliseconds. A waking thread whose slice is shorter than the running one's
// does preempt it (PREEMPT_SHORT), and request threads keep the default slice (~1–3 ms), so
// with this one they run at once while the nice value still sets the CPU shares. Linux 6.12+
// honours it (sched_setattr's sched_runtime for SCHED_OTHER); older kernels ignore it.
const hashSlice = 100 * time.Millisecond

// schedAttrCalls are sched_setattr's and sched_getattr's numbers (the syscall package has no
// names for them on amd64); on other architectures the workers keep the default slice.
var schedAttrCalls = map[string][2]uintptr{"amd64": {314, 315}, "arm64": {274, 275}}

// schedAttr is struct sched_attr as of Linux 3.14 (SCHED_ATTR_SIZE_VER0).
type schedAttr struct {
	size, policy              uint32
	flags                     uint64
	nice                      int32
	priority                  uint32
	runtime, deadline, period uint64
}

// lowerThreadPriority sets the calling thread's nice value and slice; on Linux, setpriority and
// sched_setattr with a thread id apply to that thread alone.
func lowerThreadPriority() {
	tid := syscall.Gettid()
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, hashNice); err != nil {
		slog.Warn("lower the hashing thread's priority", "err", err)
	}
	calls, ok := schedAttrCalls[runtime.GOARCH]
	if !ok {
		return
	}
	attr := schedAttr{policy: 0 /* SCHED_OTHER */, nice: hashNice, runtime: uint64(hashSlice)}
	attr.size = uint32(unsafe.Sizeof(attr))
	if _, _, errno := syscall.Syscall(calls[0], uintptr(tid), uintptr(unsafe.Pointer(&attr)), 0); errno != 0 {
		slog.Warn("lengthen the hashing thread's time slice", "err", errno)
	}
}
