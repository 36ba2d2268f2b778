// Package motoserver starts one moto_server (the AWS emulator) per test binary
// and gives tests an aws.Config pointed at it. It is for tests only.
package motoserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// InstallHint is the line that makes the integration tests runnable.
const InstallHint = `pip install "moto[server]" cfn-lint`

var (
	once     sync.Once
	endpoint string
	startErr error
)

// Endpoint returns the URL of a running moto server, starting one on first use.
// Without moto_server the test is skipped with a loud message, or fails under CI=true.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		msg := fmt.Sprintf("INTEGRATION TEST SKIPPED: moto is not available (%v). Install it with: %s", startErr, InstallHint)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintln(os.Stderr, "*** "+msg)
		t.Skip(msg)
	}
	return endpoint
}

// Reset clears all state in the server. Tests that reset must not run in parallel.
func Reset(t testing.TB) string {
	t.Helper()
	ep := Endpoint(t)
	resp, err := http.Post(ep+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
	return ep
}

// Config returns an SDK config for the server, with static test credentials.
func Config(t testing.TB, region string) aws.Config {
	t.Helper()
	ep := Endpoint(t)
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(ep),
		RetryMaxAttempts: 3,
	}
}

func start() (string, error) {
	if url := os.Getenv("PULLMEDIC_MOTO_ENDPOINT"); url != "" {
		return strings.TrimRight(url, "/"), nil
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return "", fmt.Errorf("moto_server not on PATH")
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	// The server dies with the test binary, however the binary ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES=false")
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start moto_server: %w", err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return "", fmt.Errorf("moto_server did not answer on %s within 60s", url)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
