package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/scrypt"
)

// hashOnce derives a key through p and checks it against scrypt run in this process.
func hashOnce(t *testing.T, p *hashProcess, n int, password string) {
	t.Helper()
	req := hashRequest{N: n, Password: []byte(password), Salt: []byte("0123456789abcdef")}
	got, err := p.key(context.Background(), req, func() {})
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	want, err := scrypt.Key(req.Password, req.Salt, n, scryptR, scryptP, scryptKeyLen)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the hashing process derived %x, want %x", got, want)
	}
}

// childOf returns the running child of p, failing when none runs.
func childOf(t *testing.T, p *hashProcess) *hashChild {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.child == nil {
		t.Fatal("no hashing process runs")
	}
	return p.child
}

// inFlight runs hash, which sends one hash through p, and returns the child it ran in, seen while
// the hash was in flight; then, before the hash is answered, each of while is called with it.
func inFlight(t *testing.T, p *hashProcess, hash func(), while ...func(*hashChild)) *hashChild {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		hash()
	}()
	var c *hashChild
	waitFor(t, "a hash in flight", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.child != nil && len(p.child.pending) == 1 {
			c = p.child
		}
		return c != nil
	})
	for _, f := range while {
		f(c)
	}
	<-done
	return c
}

// TestHashesRunInAChildProcessWithTheSameKeys: a key from the hashing process is scrypt's key,
// bytes that are not valid UTF-8 included, and it comes from another process.
func TestHashesRunInAChildProcessWithTheSameKeys(t *testing.T) {
	p := newHashProcess(2, time.Minute)
	for _, password := range []string{"correct horse", "pässwörd", "\xff\xfe not UTF-8", ""} {
		hashOnce(t, p, testScryptN, password)
	}
	if cmd := childOf(t, p).cmd; cmd.Process.Pid <= 0 || cmd.Args[1] != hashWorkerCommand {
		t.Fatalf("hashing process %v", cmd.Args)
	}
	p.mu.Lock()
	p.endChild(p.child)
	p.mu.Unlock()
}

// TestHashProcessRefusesAHashBeyondItsSlots: with every slot taken, a hash waits, and gives up
// when its request ends, without being sent.
func TestHashProcessRefusesAHashBeyondItsSlots(t *testing.T) {
	p := newHashProcess(2, time.Minute)
	p.slots <- struct{}{}
	p.slots <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	queued := false
	_, err := p.key(ctx, hashRequest{N: testScryptN}, func() { queued = true })
	if !errors.Is(err, context.Canceled) || !queued {
		t.Fatalf("hash beyond the slots: err %v, queue told %v; want context.Canceled, told", err, queued)
	}
	if p.child != nil {
		t.Fatal("a hash that never got a slot started the hashing process")
	}
	if hashSlots()*scryptMemory > hashMemoryBudget && hashSlots() > 1 {
		t.Fatalf("%d hashes of %d bytes exceed the budget of %d", hashSlots(), scryptMemory, hashMemoryBudget)
	}
}

// TestHashProcessKilledMidHashIsReplaced: a hash whose process is killed under it is answered by a
// new process, and later hashes use that one.
func TestHashProcessKilledMidHashIsReplaced(t *testing.T) {
	p := newHashProcess(2, time.Minute)
	hashOnce(t, p, testScryptN, "warm")
	first := childOf(t, p)
	killed := inFlight(t, p, func() {
		hashOnce(t, p, upstreamScryptN, "slow") // 32 MiB of work: long enough to be killed under
	}, func(c *hashChild) {
		if err := c.cmd.Process.Kill(); err != nil {
			t.Error(err)
		}
	})
	if killed != first {
		t.Fatal("the slow hash did not run in the running hashing process")
	}
	if second := childOf(t, p); second == first {
		t.Fatal("the killed process is still the hashing process")
	}
	hashOnce(t, p, testScryptN, "after")
	p.mu.Lock()
	p.endChild(p.child)
	p.mu.Unlock()
}

// TestHashProcessExitsWhenIdleAndStartsAgain: an idle hashing process ends, giving its memory
// back, and the next hash starts a new one.
func TestHashProcessExitsWhenIdleAndStartsAgain(t *testing.T) {
	p := newHashProcess(1, 20*time.Millisecond)
	first := inFlight(t, p, func() { hashOnce(t, p, testScryptN, "first") })
	waitFor(t, "the idle hashing process ended", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.child == nil
	})
	if err := <-first.exited; err != nil {
		t.Fatalf("the idle hashing process exited with %v", err)
	}
	hashOnce(t, p, testScryptN, "second")
}

// TestHashSlotsAreOnePerCPUUpToTheBudgetUnlessSet: HASH_SLOTS wins; without it, one slot per CPU,
// never more than the memory budget holds.
func TestHashSlotsAreOnePerCPUUpToTheBudgetUnlessSet(t *testing.T) {
	for _, tc := range []struct{ setting, cpus, want int }{
		{0, 1, 1}, {0, 2, 2}, {0, 16, maxHashSlots}, {1, 2, 1}, {1, 16, 1}, {2, 1, 2},
	} {
		if got := hashSlotsFor(tc.setting, tc.cpus); got != tc.want {
			t.Errorf("HASH_SLOTS %d on %d CPUs: %d slots, want %d", tc.setting, tc.cpus, got, tc.want)
		}
	}
	if maxHashSlots*scryptMemory > hashMemoryBudget {
		t.Fatalf("%d hashes of %d bytes exceed the budget of %d", maxHashSlots, scryptMemory, hashMemoryBudget)
	}
}
