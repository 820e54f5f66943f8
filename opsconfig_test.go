package main

import (
	"strings"
	"testing"
)

// TestOpsConfigRefusesMetricsOnThePublicPort covers the METRICS_* settings' validation.
func TestOpsConfigRefusesMetricsOnThePublicPort(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env     map[string]string
		wantErr string
	}{
		{map[string]string{"ADDR": ":4000", "METRICS_ADDR": "127.0.0.1:4000"}, "own"},
		{map[string]string{"METRICS_PPROF": "true"}, "METRICS_PPROF needs METRICS_ADDR"},
		{map[string]string{"METRICS_ADDR": "nonsense"}, "METRICS_ADDR"},
		{map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{map[string]string{"METRICS_ADDR": ":9464", "METRICS_PPROF": "true", "LOG_FORMAT": "json"}, ""},
	}
	for _, tc := range cases {
		_, err := loadConfig(nil, func(k string) string { return tc.env[k] })
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v: err = %v, want %q", tc.env, err, tc.wantErr)
		}
	}
}
