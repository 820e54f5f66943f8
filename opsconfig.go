package main

import (
	"errors"
	"fmt"
	"net"
)

// opsConfig holds the operations settings: metrics, pprof and the log format.
type opsConfig struct {
	MetricsAddr string // empty: no metrics listener, and no metrics are kept
	Pprof       bool
	LogFormat   string // json or text; empty: text on a terminal, else json
}

type opsFlags struct{ c opsConfig }

// registerOpsFlags adds the operations settings to the group being registered (Server).
func registerOpsFlags(s *settings) *opsFlags {
	f := &opsFlags{}
	s.String(&f.c.LogFormat, "log-format", "LOG_FORMAT", "", "json or text; empty: text on a terminal, else json")
	s.String(&f.c.MetricsAddr, "metrics-addr", "METRICS_ADDR", "", "listen address of /metrics, /readyz and /livez, never the public one; empty: off")
	s.Bool(&f.c.Pprof, "metrics-pprof", "METRICS_PPROF", false, "serve net/http/pprof on METRICS_ADDR")
	return f
}

func (f *opsFlags) parse(addr string) (opsConfig, error) {
	c := f.c
	switch c.LogFormat {
	case "", "json", "text":
	default:
		return opsConfig{}, fmt.Errorf("LOG_FORMAT: want json or text, got %q", c.LogFormat)
	}
	if c.Pprof && c.MetricsAddr == "" {
		return opsConfig{}, errors.New("METRICS_PPROF needs METRICS_ADDR: pprof is never served on the public port")
	}
	if c.MetricsAddr != "" {
		_, mport, err := net.SplitHostPort(c.MetricsAddr)
		if err != nil {
			return opsConfig{}, fmt.Errorf("METRICS_ADDR: %w", err)
		}
		if _, port, err := net.SplitHostPort(addr); err == nil && port == mport && port != "0" {
			return opsConfig{}, fmt.Errorf("METRICS_ADDR: port %s is the public ADDR's; metrics must have their own", port)
		}
	}
	return c, nil
}
