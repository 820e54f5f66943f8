package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/scrypt"
)

// hashOnce derives a key through p and checks it against scrypt run in this process.
func hashOnce(t *testing.T, p *hashProcess, n int, password string) {
	t.Helper()
	req := hashRequest{N: n, Password: []byte(password), Salt: []byte("0123456789abcdef")}
	got, err := p.key(context.Background(), req, &requestActivity{}, func() {})
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
	p := newHashProcess(2, false, time.Minute)
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
	p := newHashProcess(2, false, time.Minute)
	p.slots <- struct{}{}
	p.slots <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	queued := false
	_, err := p.key(ctx, hashRequest{N: testScryptN}, &requestActivity{}, func() { queued = true })
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
	p := newHashProcess(2, false, time.Minute)
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
	p := newHashProcess(1, false, 20*time.Millisecond)
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

// waitsUntilGivenUp asks p for a slot with a request that gives up after 3·hashSpareQuiet, and
// fails unless the hash waited until then.
func waitsUntilGivenUp(t *testing.T, p *hashProcess, others *requestActivity, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*hashSpareQuiet)
	defer cancel()
	if _, _, err := p.acquire(ctx, others); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: err %v; want to wait until the request gave up", what, err)
	}
}

// TestHashesLeaveACPUToOtherRequestsWhileTheyCome: with a spare slot, a second hash waits while
// the server has answered another request within hashSpareQuiet, goes ahead once it has been
// quiet that long, and never beyond the slots; with no other request ever, both run at once.
func TestHashesLeaveACPUToOtherRequestsWhileTheyCome(t *testing.T) {
	var clock atomic.Int64 // the process's clock, moved only by the test
	clock.Store(int64(time.Hour))
	p := newHashProcess(2, true, time.Minute)
	p.now = func() time.Duration { return time.Duration(clock.Load()) }
	others := &requestActivity{}
	others.note(p.now())

	if _, _, err := p.acquire(t.Context(), others); err != nil {
		t.Fatalf("first hash: %v; want a slot at once", err)
	}
	waitsUntilGivenUp(t, p, others, "a second hash while other requests come")
	if n := len(p.slots); n != 1 {
		t.Fatalf("a hash that gave up kept its place: %d slots held, want 1", n)
	}

	got := make(chan error, 1)
	go func() {
		_, _, err := p.acquire(t.Context(), others)
		got <- err
	}()
	clock.Add(int64(hashSpareQuiet)) // no other request for hashSpareQuiet
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("second hash after the quiet: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting hash did not take the spare once other requests stopped")
	}
	waitsUntilGivenUp(t, p, others, "a third hash, beyond the slots")

	q := newHashProcess(2, true, time.Minute)
	for i := range 2 {
		if _, _, err := q.acquire(t.Context(), &requestActivity{}); err != nil {
			t.Fatalf("hash %d with no other request: %v", i, err)
		}
	}
}

// TestAHashStartedInQuietHoldsACoreSlot: a hash that starts while no other request comes takes
// the free core slot, not the spare, so that once other requests come a second hash waits.
func TestAHashStartedInQuietHoldsACoreSlot(t *testing.T) {
	p := newHashProcess(2, true, time.Minute)
	p.now = func() time.Duration { return time.Hour }
	others := &requestActivity{}
	if _, _, err := p.acquire(t.Context(), others); err != nil { // quiet: nothing noted yet
		t.Fatal(err)
	}
	others.note(time.Hour) // other requests from now on
	waitsUntilGivenUp(t, p, others, "a second hash once other requests come")
}

// TestHashWaitingForTheSpareGoesAheadWhenTheOtherHashEnds: while other requests come, the hash
// waiting beside a running one starts as soon as that one ends, and the one after it waits.
func TestHashWaitingForTheSpareGoesAheadWhenTheOtherHashEnds(t *testing.T) {
	p := newHashProcess(2, true, time.Minute)
	others := &requestActivity{}
	p.now = func() time.Duration { return time.Hour }
	others.note(time.Hour) // other requests, now and for as long as the test runs
	release, _, err := p.acquire(t.Context(), others)
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		_, _, err := p.acquire(t.Context(), others)
		second <- err
	}()
	waitFor(t, "the second hash queued", func() bool { return len(p.slots) == 2 })
	release()
	select {
	case err := <-second:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting hash did not start when the running one ended")
	}
	waitsUntilGivenUp(t, p, others, "a third hash beside the second while others come")
}

// TestHashesKeepACPUFreeOnlyWhenTheSlotsWouldFillThem: the spare exists only where the slots
// would otherwise take every CPU, and never leaves a server without a slot.
func TestHashesKeepACPUFreeOnlyWhenTheSlotsWouldFillThem(t *testing.T) {
	for _, tc := range []struct {
		slots     int
		keepCore  bool
		cores     int // slots a hash may take while other requests come
		wantSpare bool
	}{
		{2, true, 1, true}, {2, false, 2, false}, {1, true, 1, false}, {1, false, 1, false},
	} {
		p := newHashProcess(tc.slots, tc.keepCore, time.Minute)
		cores := cap(p.slots)
		if p.cores != nil {
			cores = cap(p.cores)
		}
		if cap(p.slots) != tc.slots || cores != tc.cores || (p.cores != nil) != tc.wantSpare {
			t.Errorf("%d slots, keep a CPU %v: %d slots, %d while others come, spare %v; want %d, %d, %v",
				tc.slots, tc.keepCore, cap(p.slots), cores, p.cores != nil, tc.slots, tc.cores, tc.wantSpare)
		}
	}
}

// hashWorker runs serveHashRequests with handBack and idle on a pipe, and returns a function that
// sends one hash and waits for its reply. The worker stops when the test ends.
func hashWorker(t *testing.T, handBack func(), idle time.Duration) (hash func()) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- serveHashRequests(inR, outW, handBack, idle) }()
	t.Cleanup(func() {
		inW.Close()
		if err := <-served; err != nil {
			t.Errorf("serve hash requests: %v", err)
		}
	})
	enc, dec := json.NewEncoder(inW), json.NewDecoder(outR)
	var id uint64
	return func() {
		t.Helper()
		id++
		if err := enc.Encode(hashRequest{ID: id, N: testScryptN, Password: []byte("pw"), Salt: []byte("salt")}); err != nil {
			t.Fatal(err)
		}
		var reply hashReply
		if err := dec.Decode(&reply); err != nil || reply.ID != id || reply.Err != "" || len(reply.Key) != scryptKeyLen {
			t.Fatalf("reply %+v, %v; want the key of hash %d", reply, err, id)
		}
	}
}

// TestHashProcessKeepsItsMemoryBetweenBackToBackHashes: hashes one after another do not hand the
// memory back to the OS, so that each reuses the last one's instead of faulting it in again.
func TestHashProcessKeepsItsMemoryBetweenBackToBackHashes(t *testing.T) {
	var handbacks atomic.Int32
	hash := hashWorker(t, func() { handbacks.Add(1) }, time.Hour)
	for range 3 {
		hash()
	}
	if n := handbacks.Load(); n != 0 {
		t.Fatalf("memory handed back %d times between back-to-back hashes, want never", n)
	}
}

// TestHashProcessHandsItsMemoryBackOnceIdle: once no hash has run for the idle delay, the memory
// is handed back, once for the idle period.
func TestHashProcessHandsItsMemoryBackOnceIdle(t *testing.T) {
	var handbacks atomic.Int32
	idle := 5 * time.Millisecond
	hash := hashWorker(t, func() { handbacks.Add(1) }, idle)
	hash()
	waitFor(t, "the memory handed back", func() bool { return handbacks.Load() > 0 })
	time.Sleep(20 * idle) // a second handback, were there one, would come by now
	if n := handbacks.Load(); n != 1 {
		t.Fatalf("memory handed back %d times in one idle period, want once", n)
	}
}

// TestHashesArePinnedOnlyWhereASpareKeepsACPUFree: where a spare keeps a CPU free, the hash on a
// core slot is asked to run on the last CPU and the spare's on the others; where there is no
// spare (one slot, or more CPUs than slots), no hash is pinned.
func TestHashesArePinnedOnlyWhereASpareKeepsACPUFree(t *testing.T) {
	for _, tc := range []struct {
		slots    int
		keepCore bool
		want     []hashPin // hash by hash, with no other request coming
	}{
		{2, true, []hashPin{pinLast, pinOthers}}, {2, false, []hashPin{pinNone, pinNone}}, {1, true, []hashPin{pinNone}},
	} {
		p := newHashProcess(tc.slots, tc.keepCore, time.Minute)
		for i, want := range tc.want {
			_, pin, err := p.acquire(t.Context(), &requestActivity{})
			if err != nil || pin != want {
				t.Errorf("%d slots, keep a CPU %v, hash %d: pin %d (%v), want %d", tc.slots, tc.keepCore, i, pin, err, want)
			}
		}
	}
}
