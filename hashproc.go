package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/scrypt"
)

// Password hashes run in a child process of this binary (`authsidecar hash-worker`), at a lower
// scheduling priority. Each scrypt hash allocates its 32 MiB V array, so in the server's own heap
// nearly every hash started a collection, and every collection's stop-the-world waited until each
// hashing thread, low in priority, got a core to take its preemption signal: during a sign-in
// flood get-session's p99 grew to 3–4× its p99 alone (BENCHMARKS.md, "Sign-in flood"). In a
// process of their own the hashes' garbage and collections are theirs alone; the server's heap
// stays small and its stops wait on nothing but its own threads.

// scryptMemory is what one running hash holds: scrypt's V array, 128·r·N bytes (32 MiB at
// upstream's N=16384, r=16), plus a few KB of buffers.
const scryptMemory = 128 * scryptR * upstreamScryptN

// hashMemoryBudget bounds the memory of the hashes in flight: two at a time, 64 MiB. More
// would not hash faster on a small machine (each takes a core), and on a large one 32 MiB per
// core would make a sign-in flood the largest cost in memory.
const hashMemoryBudget = 64 << 20

// hashWorkerHeadroom is the hashing process's memory beyond its hashes: the runtime, stacks,
// pipe buffers. Its soft memory limit is this plus the hashes in flight, so that the collector
// frees each finished hash's array before a new one grows the heap.
const hashWorkerHeadroom = 16 << 20

// hashWorkerCommand is the subcommand the server starts its hashing process with, and
// hashWorkerPinned its argument where the server pins hashes (a spare keeps a CPU free): the
// process then runs on the last CPU (pinHashThread).
const (
	hashWorkerCommand = "hash-worker"
	hashWorkerPinned  = "pinned"
)

// hashIdleExit is how long the hashing process lives without work. It holds a few MB even idle;
// the next sign-in starts it again, a few milliseconds beside a hash.
const hashIdleExit = 10 * time.Second

// hashHandbackIdle is how long the hashing process has run no hash before it hands its freed
// memory back to the OS. Not after each hash: the next hash of a burst reuses the same freed
// 32 MiB, and handing it back made that hash fault it in and zero it again (sign-in at one slot
// ran at less than half the rate). A second is well within the 30 s in which memory must settle
// (BENCHMARKS.md, Targets), and the process exits after hashIdleExit anyway.
const hashHandbackIdle = time.Second

// maxHashSlots is the most hashes in flight the memory budget allows.
const maxHashSlots = hashMemoryBudget / scryptMemory

// hashSlotsSetting is HASH_SLOTS, set by serve before the server starts; 0 chooses.
var hashSlotsSetting int

// hashSlots is the number of hashes in flight.
func hashSlots() int { return hashSlotsFor(hashSlotsSetting, runtime.NumCPU()) }

// hashSlotsFor is setting when one is given, else one per CPU up to the memory budget. When the
// slots would fill every CPU, the last is a spare, used only while no other request comes
// (acquire).
func hashSlotsFor(setting, cpus int) int {
	if setting > 0 {
		return setting
	}
	return max(1, min(cpus, maxHashSlots))
}

// hashRequest and hashReply are the lines of the pipe protocol between the server and its
// hashing process: one JSON object a line each way, replies in the order hashes finish.
type hashRequest struct {
	ID       uint64  `json:"id"`
	N        int     `json:"n"`
	Password []byte  `json:"password"` // bytes, not a string: JSON would replace invalid UTF-8
	Salt     []byte  `json:"salt"`
	Pin      hashPin `json:"pin,omitempty"` // which CPUs the hash runs on (pinHashThread)
}

// hashPin is where a hash runs, where a spare slot keeps a CPU free (acquire): the hash that holds
// a core slot, the one that runs beside other requests, on the last CPU alone; the spare's, taken
// only while no other request comes, on the others, so that two hashes never share a CPU.
type hashPin int

const (
	pinNone   hashPin = iota // anywhere: there is no spare
	pinLast                  // the hash on a core slot
	pinOthers                // the spare's hash
)

type hashReply struct {
	ID  uint64 `json:"id"`
	Key []byte `json:"key,omitempty"`
	Err string `json:"err,omitempty"`
}

// errHashProcessExited fails the hashes a dead hashing process held; they are sent again once.
var errHashProcessExited = errors.New("the hashing process exited")

// hashResult is what a waiting hash gets: its key, or why there is none.
type hashResult struct {
	key []byte
	err error
}

// hashProcess is the server side of the hashing process: it starts the process on first use and
// again after it exits, and bounds the hashes in flight (and so their memory).
type hashProcess struct {
	slots chan struct{} // one per hash in flight, taken in the order hashes come
	// cores, when not nil, has one slot fewer: the last slot is the spare, which would leave no
	// CPU free of hashing. A hash holds a core slot besides its slot unless it runs on the spare,
	// which it takes only while the server answers nothing but hashing requests (acquire).
	cores chan struct{}
	now   func() time.Duration // monoNow; tests move their own clock
	idle  time.Duration
	mu    sync.Mutex
	child *hashChild
	timer *time.Timer // ends an idle child
}

// hashChild is one run of the hashing process.
type hashChild struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	enc     *json.Encoder
	stdout  io.Reader
	pending map[uint64]chan hashResult
	next    uint64
	exited  chan error // gets Wait's error once the process has ended
}

// hashProc is the process's hashing process, shared by every server as the CPUs are.
var hashProc = sync.OnceValue(func() *hashProcess {
	slots := hashSlots()
	return newHashProcess(slots, slots >= runtime.NumCPU(), hashIdleExit)
})

// newHashProcess bounds the hashes in flight to slots; with keepCore, the last of them is the
// spare, which leaves a CPU to other requests while there are any.
func newHashProcess(slots int, keepCore bool, idle time.Duration) *hashProcess {
	p := &hashProcess{slots: make(chan struct{}, slots), now: monoNow, idle: idle}
	if keepCore && slots > 1 {
		p.cores = make(chan struct{}, slots-1)
	}
	return p
}

// key derives scrypt's key in the hashing process, waiting for a free slot first. others is the
// server's record of requests that do not hash. queued is told when the slot is
// taken (metrics). Once sent, a hash is waited for even if ctx ends: its slot is its memory,
// given back only when the process is done with it.
func (p *hashProcess) key(ctx context.Context, req hashRequest, others *requestActivity, queued func()) ([]byte, error) {
	release, pin, err := p.acquire(ctx, others)
	queued()
	if err != nil {
		return nil, fmt.Errorf("wait for a hashing slot: %w", err)
	}
	defer release()
	req.Pin = pin
	key, err := p.roundTrip(req)
	if errors.Is(err, errHashProcessExited) {
		// Killed under it (by an operator, or the kernel out of memory): once more, on a new one.
		key, err = p.roundTrip(req)
	}
	return key, err
}

// hashSpareQuiet is how long the server must have answered only hashing requests before a hash
// may take the spare slot. While other requests come, at least one every 100 ms, the CPU the
// spare would take stays theirs: on two CPUs, get-session's p99 during a sign-in flood was a
// median 5.2× its p99 alone with both hashes running, 4.2× with the spare kept, and never more
// than 7.3× against 13.7× (BENCHMARKS.md, "Sessions of their own, a short slice and a spare
// slot"). A flood of sign-ins alone still hashes on every CPU.
const hashSpareQuiet = 100 * time.Millisecond

// acquire waits for a slot and returns what gives it back, and where the hash is to run. Hashes
// queue for the slots in the order they come (a channel's senders wait in order). Where one of
// them is the spare, the hash at the head of the queue also needs a core slot unless others has
// been quiet for hashSpareQuiet; even then it takes a free core slot first, since a hash on the
// spare beside a free core slot would let the next one take it, two hashes beside other
// requests. Waiting, it looks again when the quiet would be long enough. Only that one hash ever
// waits this way, so the queue stays in order.
func (p *hashProcess) acquire(ctx context.Context, others *requestActivity) (release func(), pin hashPin, err error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, pinNone, ctx.Err()
	}
	if p.cores == nil {
		return p.releaseSlot, pinNone, nil
	}
	for {
		wait := hashSpareQuiet - others.quietFor(p.now())
		if wait <= 0 {
			select {
			case p.cores <- struct{}{}:
				return p.releaseCore, pinLast, nil
			default:
				return p.releaseSlot, pinOthers, nil // the spare
			}
		}
		look := time.NewTimer(wait)
		select {
		case p.cores <- struct{}{}:
			look.Stop()
			return p.releaseCore, pinLast, nil
		case <-look.C:
		case <-ctx.Done():
			look.Stop()
			p.releaseSlot()
			return nil, pinNone, ctx.Err()
		}
	}
}

func (p *hashProcess) releaseSlot() { <-p.slots }

func (p *hashProcess) releaseCore() {
	<-p.cores
	<-p.slots
}

// requestActivity is when a server last answered a request that hashed no password, on
// monoNow's clock: hashes leave a CPU free while such requests come (acquire).
type requestActivity struct{ last atomic.Int64 }

// monoEpoch and monoNow: a monotonic clock in one integer, for requestActivity.
var monoEpoch = time.Now()

func monoNow() time.Duration { return time.Since(monoEpoch) }

// note records a request answered at now. Under load the value is at most a millisecond old, so
// most requests only read it: a store from every request would move its cache line between CPUs.
func (a *requestActivity) note(now time.Duration) {
	if now-time.Duration(a.last.Load()) > time.Millisecond {
		a.last.Store(int64(now))
	}
}

// quietFor is how long before now the last request was noted; "forever" when none was.
func (a *requestActivity) quietFor(now time.Duration) time.Duration {
	last := a.last.Load()
	if last == 0 {
		return math.MaxInt64
	}
	return now - time.Duration(last)
}

func (p *hashProcess) roundTrip(req hashRequest) ([]byte, error) {
	wait, err := p.send(req)
	if err != nil {
		return nil, err
	}
	r := <-wait
	return r.key, r.err
}

// send writes the request to the running child, starting one when none runs, and returns where
// its reply will come.
func (p *hashProcess) send(req hashRequest) (<-chan hashResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
	}
	if p.child == nil {
		c, err := startHashChild(p.cores != nil)
		if err != nil {
			return nil, err
		}
		p.child = c
		go p.readReplies(c)
	}
	c := p.child
	c.next++
	req.ID = c.next
	wait := make(chan hashResult, 1)
	c.pending[req.ID] = wait
	// A line of a few hundred bytes into a pipe the child reads all the time: never blocks long.
	if err := c.enc.Encode(req); err != nil {
		delete(c.pending, req.ID)
		p.endChild(c)
		return nil, fmt.Errorf("send to the hashing process: %w", err)
	}
	return wait, nil
}

// startHashChild runs this binary as the hashing process. Its environment is empty: it needs no
// setting, and the server's secrets have no business there.
func startHashChild(pinned bool) (*hashChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary to start the hashing process: %w", err)
	}
	cmd := exec.Command(exe, hashWorkerCommand)
	if pinned {
		cmd.Args = append(cmd.Args, hashWorkerPinned)
	}
	cmd.Env = []string{}
	cmd.SysProcAttr = hashChildAttr()
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("hashing process stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("hashing process stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the hashing process: %w", err)
	}
	return &hashChild{cmd: cmd, stdin: stdin, enc: json.NewEncoder(stdin), stdout: stdout,
		pending: map[uint64]chan hashResult{}, exited: make(chan error, 1)}, nil
}

// readReplies hands each reply to its waiter. When the child's output ends (it exited, or was
// told to), it fails what the child still held, so those hashes are sent again, and lets the next
// hash start a new child.
func (p *hashProcess) readReplies(c *hashChild) {
	dec := json.NewDecoder(bufio.NewReader(c.stdout))
	for {
		var reply hashReply
		if err := dec.Decode(&reply); err != nil {
			if !errors.Is(err, io.EOF) {
				slog.Error("read the hashing process's reply", "err", err)
				c.cmd.Process.Kill() // its output is no longer understood; a new one takes over
			}
			break
		}
		p.mu.Lock()
		wait := c.pending[reply.ID]
		delete(c.pending, reply.ID)
		if len(c.pending) == 0 && p.child == c {
			p.armIdleTimer(c)
		}
		p.mu.Unlock()
		if wait == nil {
			continue
		}
		if reply.Err != "" {
			wait <- hashResult{err: fmt.Errorf("scrypt: %s", reply.Err)}
		} else {
			wait <- hashResult{key: reply.Key}
		}
	}
	p.mu.Lock()
	if p.child == c {
		p.child = nil
	}
	held := c.pending
	c.pending = nil
	p.mu.Unlock()
	for _, wait := range held {
		wait <- hashResult{err: errHashProcessExited}
	}
	err := c.cmd.Wait()
	if err != nil && len(held) > 0 {
		slog.Error("the hashing process exited with hashes in flight", "err", err, "hashes", len(held))
	}
	c.exited <- err
}

// armIdleTimer ends the child once it has been idle for p.idle. Call with p.mu held.
func (p *hashProcess) armIdleTimer(c *hashChild) {
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(p.idle, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.child == c && len(c.pending) == 0 {
			p.endChild(c)
		}
	})
}

// endChild closes the child's input, which ends it once its hashes are answered. Call with p.mu
// held.
func (p *hashProcess) endChild(c *hashChild) {
	if p.child == c {
		p.child = nil
	}
	c.stdin.Close()
}

// runHashWorker is the hashing process: it reads requests from in until it ends and answers each
// on out when its hash is done. The parent's slots bound how many run at once.
func runHashWorker(in io.Reader, out io.Writer, pinned bool) error {
	lowerProcessPriority(pinned)
	// The budget, not the server's slot count, which the child is not told: the server never
	// sends more hashes than its slots, and never more slots than the budget holds.
	debug.SetMemoryLimit(int64(hashWorkerHeadroom + hashMemoryBudget))
	return serveHashRequests(in, out, debug.FreeOSMemory, hashHandbackIdle)
}

// serveHashRequests answers the hash requests from in on out, and calls handBack once no hash has
// run for idle.
func serveHashRequests(in io.Reader, out io.Writer, handBack func(), idle time.Duration) error {
	dec := json.NewDecoder(bufio.NewReader(in))
	var mu sync.Mutex // one reply written at a time
	enc := json.NewEncoder(out)
	var wg sync.WaitGroup
	var running atomic.Int32
	// Armed when a hash ends with none running, stopped when one starts. A hash that starts just
	// as the last one ends may still see it fire: harmless, the handback frees only garbage.
	idleHandback := time.AfterFunc(idle, handBack)
	idleHandback.Stop()
	defer idleHandback.Stop()
	defer wg.Wait()
	for {
		var req hashRequest
		if err := dec.Decode(&req); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read a hash request: %w", err)
		}
		running.Add(1)
		idleHandback.Stop()
		wg.Go(func() {
			reply := hashReply{ID: req.ID}
			key, err := deriveKey(req)
			if err != nil {
				reply.Err = err.Error()
			}
			reply.Key = key
			// The hash's array is garbage now: collect it before the reply lets the server send
			// another hash, so the heap holds the hashes in flight and not also the last ones.
			// The arrays hold no pointers, so marking costs next to nothing. The memory goes back
			// to the OS once the process is idle (hashHandbackIdle), not when the scavenger gets
			// to it, minutes on.
			runtime.GC()
			if running.Add(-1) == 0 {
				idleHandback.Reset(idle)
			}
			mu.Lock()
			err = enc.Encode(reply)
			mu.Unlock()
			if err != nil {
				slog.Error("answer a hash request", "err", err)
			}
		})
	}
}

// deriveKey runs scrypt on the CPUs the request says.
func deriveKey(req hashRequest) ([]byte, error) {
	if req.Pin != pinNone {
		defer pinHashThread(req.Pin)()
	}
	return scrypt.Key(req.Password, req.Salt, req.N, scryptR, scryptP, scryptKeyLen)
}
