// Command vulnaccept reads govulncheck's JSON stream (-format json) on stdin and fails unless the
// vulnerabilities our code calls are exactly the ones accepted in the file named as its argument:
// an unlisted finding fails, and so does a listed one govulncheck no longer reports, so the list
// cannot outlive its reason. It is Go, not jq or python3, because a fresh CI machine has only Go.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// message is the part of a govulncheck JSON message read here (golang.org/x/vuln/internal/govulncheck).
type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV   string `json:"osv"`
		Trace []struct {
			Package  string `json:"package"`
			Function string `json:"function"`
			Receiver string `json:"receiver"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: govulncheck -format json ./... | vulnaccept ACCEPTED_FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulnaccept:", err)
		os.Exit(2)
	}
	defer f.Close()
	if err := check(os.Stdin, f, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulnaccept:", err)
		os.Exit(1)
	}
}

// check reports every called vulnerability to out and fails on an unaccepted one, or on an
// accepted one that is not called.
func check(stream, acceptedList io.Reader, out io.Writer) error {
	accepted, err := readAccepted(acceptedList)
	if err != nil {
		return err
	}
	called, summaries, err := readFindings(stream)
	if err != nil {
		return err
	}
	var problems []string
	for _, id := range slices.Sorted(maps.Keys(called)) {
		if reason, ok := accepted[id]; ok {
			fmt.Fprintf(out, "accepted %s (%s): %s\n", id, summaries[id], reason)
			continue
		}
		problems = append(problems, fmt.Sprintf("%s (%s) is called: %s", id, summaries[id], strings.Join(called[id], "; ")))
	}
	for _, id := range slices.Sorted(maps.Keys(accepted)) {
		if _, ok := called[id]; !ok {
			problems = append(problems, fmt.Sprintf("%s is accepted but no longer reported: remove it from the accepted list", id))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// readAccepted reads "ID reason…" lines; blank lines and # comments are skipped. A line without
// a reason is refused: the reason (and the test proving the mitigation) is the point.
func readAccepted(r io.Reader) (map[string]string, error) {
	accepted := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("accepted list line %d: %s has no reason", n, id)
		}
		accepted[id] = strings.TrimSpace(reason)
	}
	return accepted, sc.Err()
}

// readFindings returns, per vulnerability whose symbol our code calls (a finding whose innermost
// frame names a function, as govulncheck's text mode counts them), the call sites, and the
// summaries of all vulnerabilities in the stream.
func readFindings(r io.Reader) (map[string][]string, map[string]string, error) {
	called, summaries := map[string][]string{}, map[string]string{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			return called, summaries, nil
		} else if err != nil {
			return nil, nil, fmt.Errorf("read govulncheck json: %w", err)
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		if m.Finding == nil || len(m.Finding.Trace) == 0 || m.Finding.Trace[0].Function == "" {
			continue
		}
		var frames []string
		for _, t := range m.Finding.Trace {
			frames = append(frames, strings.TrimPrefix(t.Receiver+".", ".")+t.Function)
		}
		if site := strings.Join(frames, " <- "); !slices.Contains(called[m.Finding.OSV], site) {
			called[m.Finding.OSV] = append(called[m.Finding.OSV], site)
		}
	}
}
