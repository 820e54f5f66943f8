package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestHashWorkersRunAtLowerPriority ensures scrypt runs on threads the kernel schedules after the
// request threads (nice hashNice), while a request goroutine's thread keeps the default.
func TestHashWorkersRunAtLowerPriority(t *testing.T) {
	nice := func() string {
		stat, err := os.ReadFile("/proc/thread-self/stat")
		if err != nil {
			t.Fatal(err)
		}
		// Fields after "(comm)": state is field 3, nice field 19.
		_, rest, _ := strings.Cut(string(stat), ") ")
		return strings.Fields(rest)[19-3]
	}
	got := make(chan string)
	hashWorkers() <- func() { got <- nice() }
	if n := <-got; n != strconv.Itoa(hashNice) {
		t.Fatalf("hashing worker's nice value is %s, want %d", n, hashNice)
	}
	if n := nice(); n != "0" {
		t.Fatalf("a request goroutine's thread has nice %s, want 0", n)
	}
}
