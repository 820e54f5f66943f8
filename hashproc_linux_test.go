package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// niceOf reads a thread's nice value from its stat file.
func niceOf(t *testing.T, stat string) string {
	t.Helper()
	b, err := os.ReadFile(stat)
	if err != nil {
		t.Fatal(err)
	}
	// Fields after "(comm)": state is field 3, nice field 19.
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.Fields(rest)[19-3]
}

// sliceOf reads a thread's time slice from its sched file; false where the kernel shows none.
func sliceOf(t *testing.T, sched string) (time.Duration, bool) {
	t.Helper()
	b, err := os.ReadFile(sched)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "se.slice" {
			ns, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil {
				t.Fatalf("%s: se.slice %q", sched, value)
			}
			return time.Duration(ns), true
		}
	}
	return 0, false
}

// TestHashProcessRunsAtLowerPriorityInASessionOfItsOwn ensures scrypt runs in a process whose
// every thread the kernel schedules after the server's (nice hashNice, and the short slice where
// the kernel shows slices), while the server's own threads keep the default; and, where the kernel has autogroups, in an autogroup of its own at
// that nice value, below every other session (Postgres's included).
func TestHashProcessRunsAtLowerPriorityInASessionOfItsOwn(t *testing.T) {
	p := newHashProcess(2, false, time.Minute)
	c := inFlight(t, p, func() { hashOnce(t, p, testScryptN, "nice") })
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", c.cmd.Process.Pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of the hashing process: %v %v", tasks, err)
	}
	for _, stat := range tasks {
		if n := niceOf(t, stat); n != strconv.Itoa(hashNice) {
			t.Errorf("%s: nice %s, want %d", stat, n, hashNice)
		}
		if slice, ok := sliceOf(t, filepath.Join(filepath.Dir(stat), "sched")); ok && slice != hashSlice {
			t.Errorf("%s: slice %v, want %v", stat, slice, hashSlice)
		}
	}
	if n := niceOf(t, "/proc/thread-self/stat"); n != "0" {
		t.Fatalf("a server thread has nice %s, want 0", n)
	}
	if sid, err := unix.Getsid(c.cmd.Process.Pid); err != nil || sid != c.cmd.Process.Pid {
		t.Errorf("hashing process %d in session %d (%v), want a session of its own", c.cmd.Process.Pid, sid, err)
	}
	if ours, err := os.ReadFile("/proc/self/autogroup"); err == nil { // "/autogroup-N nice K"
		theirs, err := os.ReadFile(fmt.Sprintf("/proc/%d/autogroup", c.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		group, nice, _ := strings.Cut(strings.TrimSpace(string(theirs)), " ")
		ourGroup, _, _ := strings.Cut(string(ours), " ")
		if group == ourGroup || nice != "nice "+strconv.Itoa(hashNice) {
			t.Errorf("hashing process in %q, the server in %q: want an autogroup of its own at nice %d", theirs, ours, hashNice)
		}
	}
	p.mu.Lock()
	p.endChild(p.child)
	p.mu.Unlock()
}

// TestPinnedHashesRunOnTheirCPUsAndGiveTheirThreadBack: while pinned, the hashing goroutine's
// thread may run only on the CPUs its pin names (the last CPU of the process, or all the
// others), and afterwards on all of them again; the key is the same either way.
func TestPinnedHashesRunOnTheirCPUsAndGiveTheirThreadBack(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil || all.Count() < 2 {
		t.Skipf("needs two CPUs: %d (%v)", all.Count(), err)
	}
	last := 0
	for cpu := range len(all) * 64 {
		if all.IsSet(cpu) {
			last = cpu
		}
	}
	for _, pin := range []hashPin{pinLast, pinOthers} {
		during, after, err := affinityWhilePinned(pin)
		if err != nil {
			t.Fatal(err)
		}
		onLast, count := false, all.Count()-1 // pinOthers
		if pin == pinLast {
			onLast, count = true, 1
		}
		if during.IsSet(last) != onLast || during.Count() != count {
			t.Errorf("pin %d: pinned to %v of %v (last CPU %d)", pin, during, all, last)
		}
		if after != all {
			t.Errorf("pin %d: after the hash %v, want %v", pin, after, all)
		}
		req := hashRequest{N: testScryptN, Password: []byte("pinned"), Salt: []byte("0123456789abcdef")}
		free, err := deriveKey(req)
		if err != nil {
			t.Fatal(err)
		}
		req.Pin = pin
		if pinned, err := deriveKey(req); err != nil || !bytes.Equal(pinned, free) {
			t.Fatalf("pin %d: key %x (%v), want %x", pin, pinned, err, free)
		}
	}
}

// affinityWhilePinned pins a thread of its own as a hash would and reads its CPUs while pinned
// and after.
func affinityWhilePinned(pin hashPin) (during, after unix.CPUSet, err error) {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread under test stays this goroutine's after unpin
		defer runtime.UnlockOSThread()
		unpin := pinHashThread(pin)
		err := unix.SchedGetaffinity(0, &during)
		unpin()
		if err == nil {
			err = unix.SchedGetaffinity(0, &after)
		}
		done <- err
	}()
	return during, after, <-done
}

// TestAHashingProcessWithASpareRunsOnTheLastCPU: where a spare keeps a CPU free, every thread of
// the hashing process may run on the last CPU alone (only the spare's hash leaves it, while it
// runs); without a spare, on every CPU.
func TestAHashingProcessWithASpareRunsOnTheLastCPU(t *testing.T) {
	all := hashCPUs()
	if all.Count() < 2 {
		t.Skipf("needs two CPUs: %d", all.Count())
	}
	for _, keepCore := range []bool{true, false} {
		p := newHashProcess(2, keepCore, time.Minute)
		c := inFlight(t, p, func() { hashOnce(t, p, testScryptN, "where") })
		want := all
		if keepCore {
			want = pinnedCPUs(all, pinLast)
		}
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", c.cmd.Process.Pid))
		if err != nil || len(tasks) == 0 {
			t.Fatalf("threads of the hashing process: %v %v", tasks, err)
		}
		for _, task := range tasks {
			tid, err := strconv.Atoi(filepath.Base(task))
			if err != nil {
				t.Fatal(err)
			}
			var got unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &got); err != nil {
				continue // ended since the list was read
			}
			if got != want {
				t.Errorf("spare %v: thread %d may run on %v, want %v", keepCore, tid, got, want)
			}
		}
		p.mu.Lock()
		p.endChild(p.child)
		p.mu.Unlock()
	}
}
