package main

import (
	"log/slog"
	"os"
	"strconv"
	"syscall"
)

// hashNice is the hashing process's nice value: the kernel gives a busy nice-0 thread about ten
// times its share of a core, yet hashes are not starved when requests keep the cores busy.
const hashNice = 10

// lowerProcessPriority sets the nice value of every thread of this process. On Linux a nice
// value belongs to a thread, and a new thread inherits its creator's: once every thread the
// runtime has started is lowered, so is every later one. A thread started while the list is read
// is caught by the next pass.
func lowerProcessPriority() {
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
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, hashNice); err != nil && err != syscall.ESRCH { // ESRCH: it has ended
				slog.Warn("lower the hashing thread's priority", "err", err)
			}
		}
	}
}
