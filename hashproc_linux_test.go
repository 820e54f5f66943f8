package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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

// TestHashProcessRunsEveryThreadAtLowerPriority ensures scrypt runs in a process whose every
// thread the kernel schedules after the server's (nice hashNice), while the server's own threads
// keep the default.
func TestHashProcessRunsEveryThreadAtLowerPriority(t *testing.T) {
	p := newHashProcess(2, time.Minute)
	c := inFlight(t, p, func() { hashOnce(t, p, testScryptN, "nice") })
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", c.cmd.Process.Pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of the hashing process: %v %v", tasks, err)
	}
	for _, stat := range tasks {
		if n := niceOf(t, stat); n != strconv.Itoa(hashNice) {
			t.Errorf("%s: nice %s, want %d", stat, n, hashNice)
		}
	}
	if n := niceOf(t, "/proc/thread-self/stat"); n != "0" {
		t.Fatalf("a server thread has nice %s, want 0", n)
	}
	p.mu.Lock()
	p.endChild(p.child)
	p.mu.Unlock()
}
