package main

import (
	"log/slog"
	"syscall"
)

// hashNice is the hashing workers' nice value: the kernel gives a busy nice-0 thread about ten
// times their share of a core, yet they are not starved when requests keep it busy.
const hashNice = 10

// lowerThreadPriority sets the calling thread's nice value; on Linux, setpriority with a thread
// id applies to that thread alone.
func lowerThreadPriority() {
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), hashNice); err != nil {
		slog.Warn("lower the hashing thread's priority", "err", err)
	}
}
