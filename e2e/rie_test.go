package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The Lambda runtime contract, for real: each function's bootstrap is built for
// this machine and run under the AWS Lambda Runtime Interface Emulator (RIE),
// which serves the Runtime API to it and the Invoke API to the test.

const rieInstall = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest"

// buildDir holds the bootstraps built by this test binary; TestMain removes it.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pullmedic-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// rieBinary finds the emulator: $AWS_LAMBDA_RIE, else GOPATH/bin, else PATH.
// Without it the test is skipped loudly, or fails under CI=true.
func rieBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			if p := filepath.Join(dir, "bin", "aws-lambda-rie"); isExecutable(p) {
				return p
			}
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	msg := "E2E TEST SKIPPED: aws-lambda-rie not found (set AWS_LAMBDA_RIE or install it with: " + rieInstall + ")"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	fmt.Fprintln(os.Stderr, "*** "+msg)
	tb.Skip(msg)
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// bootstrap builds ./functions/NAME for this machine, once per test binary,
// with the Makefile's lambda.norpc tag (Runtime API only). Other flags are left
// at their defaults so the build reuses the packages cached by go test.
func bootstrap(tb testing.TB, name string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	out := filepath.Join(buildDir, name, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out,
		"github.com/pullmedic/pullmedic/functions/"+name)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build %s bootstrap: %v\n%s", name, err, msg)
	}
	built[name] = out
	return out
}

// function is one bootstrap running under its own emulator.
type function struct {
	name   string
	invoke string // the Invoke API URL
	logs   *lockedBuffer
	cmd    *exec.Cmd
}

// startFunction runs a bootstrap under RIE with exactly env (plus PATH): the
// host's AWS credentials and profiles never reach it. It is stopped, by its
// process group, when the test ends; its logs are printed if the test failed.
func startFunction(tb testing.TB, name, bootstrapPath string, env map[string]string) *function {
	tb.Helper()
	rie := rieBinary(tb)
	invokeAddr, apiAddr := freeAddr(tb), freeAddr(tb)
	f := &function{name: name, invoke: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", logs: &lockedBuffer{}}
	f.cmd = exec.Command(rie, "--log-level", "error",
		"--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", apiAddr, bootstrapPath)
	f.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=" + name}
	for k, v := range env {
		f.cmd.Env = append(f.cmd.Env, k+"="+v)
	}
	f.cmd.Stdout, f.cmd.Stderr = f.logs, f.logs
	// Its own process group, so that stopping it stops the bootstrap too; and
	// it dies with the test binary however that ends.
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := f.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", rie, err)
	}
	tb.Cleanup(func() {
		f.stop()
		if tb.Failed() {
			tb.Logf("---- %s logs ----\n%s", name, f.logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", invokeAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return f
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: the emulator did not listen on %s: %v\n%s", name, invokeAddr, err, f.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *function) stop() {
	if f.cmd.Process == nil || f.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
	_ = f.cmd.Wait()
}

// call invokes the function synchronously and returns its response payload.
// A function error (the runtime's errorMessage/errorType document) is an error.
func (f *function) call(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.invoke, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.name, err)
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"errorType"`)) {
		return body, fmt.Errorf("invoke %s: HTTP %d: %s", f.name, resp.StatusCode, body)
	}
	return body, nil
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
