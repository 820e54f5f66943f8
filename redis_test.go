package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// testRedisServer is the Redis the tests share, each under a key prefix of its own:
// TEST_REDIS_URL when set, else a testcontainers Redis when Docker answers, else a redis-server
// the tests start on a free port (Debian's redis-server; .ci/run installs it).
type testRedis struct {
	once      sync.Once
	err       error
	url       string
	container testcontainers.Container
	cmd       *exec.Cmd
}

var testRedisServer testRedis

func (r *testRedis) close() {
	if r.container != nil {
		r.container.Terminate(context.Background())
	}
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

func (r *testRedis) setup() error {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		r.url = u
		fmt.Fprintln(os.Stderr, "tests use Redis from TEST_REDIS_URL")
		return nil
	}
	if c, u, err := startRedisContainer(context.Background()); err == nil {
		r.container, r.url = c, u
		fmt.Fprintln(os.Stderr, "tests use Redis from testcontainers")
		return nil
	} else {
		fmt.Fprintf(os.Stderr, "tests start their own redis-server (no Docker: %s)\n", firstLine(err))
	}
	addr, cmd, err := startRedisServer()
	if err != nil {
		return err
	}
	r.cmd, r.url = cmd, "redis://"+addr
	return nil
}

func startRedisContainer(ctx context.Context) (testcontainers.Container, string, error) {
	c, addr, err := startContainer(ctx, testcontainers.ContainerRequest{
		Image:        "redis:7-alpine",
		ExposedPorts: []string{"6379/tcp"},
		WaitingFor:   wait.ForLog("Ready to accept connections").WithStartupTimeout(60 * time.Second),
	})
	if err != nil {
		return nil, "", err
	}
	return c, "redis://" + addr, nil
}

// startRedisServer runs redis-server without persistence on a port the kernel chose, and waits
// until it answers.
func startRedisServer() (string, *exec.Cmd, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, fmt.Errorf("no Redis for the tests: set TEST_REDIS_URL, run Docker or install redis-server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "authsidecar-redis")
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c.Ping(context.Background()).Err() == nil {
			return addr, cmd, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	return "", nil, fmt.Errorf("redis-server on %s did not answer", addr)
}

// redisURLForTest returns the tests' Redis URL.
func redisURLForTest(t testing.TB) string {
	t.Helper()
	testRedisServer.once.Do(func() { testRedisServer.err = testRedisServer.setup() })
	if testRedisServer.err != nil {
		t.Fatalf("test Redis: %v", testRedisServer.err)
	}
	return testRedisServer.url
}

// withRedis puts a test server's secondary storage in the tests' Redis under a prefix of the
// test's own (its keys are deleted when it ends). url, when given, replaces the shared server
// (a proxy the test can cut).
func withRedis(t testing.TB, sessionsInDB, verificationInDB bool, url ...string) func(*config) {
	t.Helper()
	u := redisURLForTest(t)
	if len(url) > 0 {
		u = url[0]
	}
	prefix := "t" + strings.ToLower(generateID(10)) + ":"
	t.Cleanup(func() { deleteRedisPrefix(t, prefix) })
	return func(c *config) {
		f := &redisFlags{c: redisConfig{URL: u, KeyPrefix: prefix, SessionsInDB: sessionsInDB, VerificationInDB: verificationInDB}}
		rc, err := f.parse()
		if err != nil {
			t.Fatal(err)
		}
		c.Redis = rc
	}
}

// testRedisClient is a plain client of the tests' Redis, for reading what the server stored.
func testRedisClient(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURLForTest(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func deleteRedisPrefix(t testing.TB, prefix string) {
	opts, err := redis.ParseURL(testRedisServer.url)
	if err != nil {
		return
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}
