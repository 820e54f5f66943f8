package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
)

// opsConfig holds the operations settings: metrics, pprof and the log format.
type opsConfig struct {
	MetricsAddr string // empty: no metrics listener, and no metrics are kept
	Pprof       bool
	LogFormat   string // json or text; empty: text on a terminal, else json
}

type opsFlags struct {
	c     opsConfig
	pprof string
}

func registerOpsFlags(fs *flag.FlagSet, env func(name, def string) string) *opsFlags {
	f := &opsFlags{}
	fs.StringVar(&f.c.MetricsAddr, "metrics-addr", env("METRICS_ADDR", ""), "[METRICS_ADDR] listen address of /metrics and /readyz, never the public one; empty: off")
	fs.StringVar(&f.pprof, "metrics-pprof", env("METRICS_PPROF", "false"), "[METRICS_PPROF] serve net/http/pprof on METRICS_ADDR")
	fs.StringVar(&f.c.LogFormat, "log-format", env("LOG_FORMAT", ""), "[LOG_FORMAT] json or text; empty: text on a terminal, else json")
	return f
}

func (f *opsFlags) parse(addr string) (opsConfig, error) {
	c := f.c
	var err error
	if c.Pprof, err = strconv.ParseBool(f.pprof); err != nil {
		return opsConfig{}, fmt.Errorf("METRICS_PPROF: want true or false, got %q", f.pprof)
	}
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
