package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// loadRequest is one request a load worker sends: worker w's n-th.
type loadRequest func(w, n int) (*http.Request, error)

// load runs workers that send requests back to back until stopped, counting answers by the phase
// the test has set when each request was sent.
type load struct {
	mu       sync.Mutex
	phase    string
	statuses map[string]map[int]int // phase -> status -> count
	ok       map[string]int         // path -> 200s
	null     map[string]int         // phase -> 200s answering null (get-session without a session)
	// spanning counts answers to requests sent in one phase and answered in a later one (in
	// flight when the test moved on), by "sent → answered" phases.
	spanning map[string]int
	refused  map[string]int // phase -> connections refused
	// resets are connections dropped without an answer, when they were; a listener closing
	// resets the connections still waiting in the kernel's accept queue.
	resets   []time.Time
	failures []string // any other transport error, or an unreadable answer
	stop     chan struct{}
	done     sync.WaitGroup
}

// startLoad starts workers whose connections are not kept alive, so that every request is a
// connection of its own and a refused connection is told apart from a dropped one.
func startLoad(t testing.TB, workers int, next loadRequest) *load {
	return startLoadWith(t, &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, workers, next)
}

// startLoadWith starts workers sending through client.
func startLoadWith(t testing.TB, client *http.Client, workers int, next loadRequest) *load {
	l := &load{phase: "before", statuses: map[string]map[int]int{}, ok: map[string]int{}, null: map[string]int{}, spanning: map[string]int{}, refused: map[string]int{}, stop: make(chan struct{})}
	for w := range workers {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				req, err := next(w, n)
				if err != nil {
					t.Error(err)
					return
				}
				phase := l.current()
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				l.record(phase, req.URL.Path, resp, body, err)
			}
		}()
	}
	return l
}

func (l *load) current() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.phase
}

func (l *load) set(phase string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase = phase
}

func (l *load) record(phase, path string, resp *http.Response, body []byte, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		l.refused[phase]++
		return
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF):
		l.resets = append(l.resets, time.Now())
		return
	case err != nil:
		l.failures = append(l.failures, phase+": "+err.Error())
		return
	}
	if resp.StatusCode >= 400 && !json.Valid(body) {
		l.failures = append(l.failures, phase+": "+resp.Status+" without a JSON body: "+string(body))
	}
	if l.statuses[phase] == nil {
		l.statuses[phase] = map[int]int{}
	}
	l.statuses[phase][resp.StatusCode]++
	if phase != l.phase {
		l.spanning[phase+" → "+l.phase]++
	}
	if resp.StatusCode == http.StatusOK {
		l.ok[path]++
		if string(body) == "null" {
			l.null[phase]++
		}
	}
}

// finish stops the workers and waits for their last requests.
func (l *load) finish() {
	close(l.stop)
	l.done.Wait()
}

// transportFailures counts the requests that got no answer, or one that was not JSON.
func (l *load) transportFailures() int {
	n := len(l.resets) + len(l.failures)
	for _, c := range l.refused {
		n += c
	}
	return n
}

// sent counts the requests answered or refused in every phase.
func (l *load) sent() int {
	n := 0
	for _, s := range l.statuses {
		for _, c := range s {
			n += c
		}
	}
	for _, c := range l.refused {
		n += c
	}
	return n + len(l.resets) + len(l.failures)
}

// jsonRequest builds a request with a JSON body and the given cookie and Origin.
func jsonRequest(method, url string, body any, origin, cookie string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", origin)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return req, nil
}
