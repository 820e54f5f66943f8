package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestHashWorkersRunAtLowerPriority ensures scrypt runs on threads the kernel schedules after the
// request threads (nice hashNice, and where the kernel keeps a slice per thread, the long
// hashSlice that lets waking request threads preempt them), while a request goroutine's thread
// keeps the defaults.
func TestHashWorkersRunAtLowerPriority(t *testing.T) {
	type sched struct {
		nice  string
		slice time.Duration
	}
	read := func() sched {
		stat, err := os.ReadFile("/proc/thread-self/stat")
		if err != nil {
			t.Error(err)
		}
		// Fields after "(comm)": state is field 3, nice field 19.
		_, rest, _ := strings.Cut(string(stat), ") ")
		var slice time.Duration
		if calls, ok := schedAttrCalls[runtime.GOARCH]; ok {
			var attr schedAttr
			if _, _, errno := syscall.Syscall6(calls[1], uintptr(syscall.Gettid()), uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0, 0, 0); errno != 0 {
				t.Errorf("sched_getattr: %v", errno)
			}
			slice = time.Duration(attr.runtime)
		}
		return sched{strings.Fields(rest)[19-3], slice}
	}
	got := make(chan sched)
	hashWorkers() <- func(*[]uint32) { got <- read() }
	worker := <-got
	runtime.LockOSThread() // read this goroutine's thread, not whichever runs it next
	defer runtime.UnlockOSThread()
	request := read()
	if worker.nice != strconv.Itoa(hashNice) {
		t.Errorf("hashing worker's nice value is %s, want %d", worker.nice, hashNice)
	}
	if request.nice != "0" {
		t.Errorf("a request goroutine's thread has nice %s, want 0", request.nice)
	}
	// Before Linux 6.12 no thread has a slice of its own, and sched_getattr reports none.
	if request.slice == 0 {
		t.Logf("the kernel keeps no slice per thread; the workers' is not checked")
		return
	}
	if worker.slice != hashSlice || request.slice == hashSlice {
		t.Errorf("time slices: hashing worker %v (want %v), request thread %v (want the default)", worker.slice, hashSlice, request.slice)
	}
}
