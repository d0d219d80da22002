package testenv

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// AzuriteServer is a running Azurite (Microsoft's Azure Storage emulator),
// Blob service only, with one account of a random name and key. It checks
// Shared Key and SAS signatures: a wrong key gets 403 AuthenticationFailed.
type AzuriteServer struct {
	// Endpoint is the account's blob service URL, path-style as Azurite
	// wants it: http://127.0.0.1:port/ACCOUNT.
	Endpoint string
	Account  string
	Key      string // base64, random per server

	proc *proc
}

// azuriteStopGrace: Azurite ignores SIGTERM and SIGINT for seconds (seen
// 2026-12); it keeps nothing worth flushing, so it gets SIGKILL soon.
const azuriteStopGrace = 500 * time.Millisecond

// Azurite starts azurite-blob (in-memory-free: a temp dir as --location) on
// a free 127.0.0.1 port with a random account, waits until it answers a
// signed request, and stops it at cleanup. It is the npm package azurite
// installed under <tools>/azurite by scripts/fetch-azurite.sh (`make
// test-deps`). Tests may call it in parallel.
func Azurite(t testing.TB) *AzuriteServer {
	t.Helper()
	bin := filepath.Join(ToolsDir(t), "azurite", "node_modules", ".bin", "azurite-blob")
	requireExecutable(t, bin, "Azurite (the Azure Blob test server)", InstallHint)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("testenv: Azurite needs Node.js (node) on PATH: install it with: make system-deps")
	}
	key := make([]byte, 64)
	rand.Read(key)
	s := &AzuriteServer{Account: "pgsafe" + randomHex(4), Key: base64.StdEncoding.EncodeToString(key)}
	base := tempDir(t, "azurite", nil)
	env := append(os.Environ(), "AZURITE_ACCOUNTS="+s.Account+":"+s.Key)

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port) + "/" + s.Account
		cmd := exec.Command(node, bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
			"--location", base, "--skipApiVersionCheck", "--loose", "--silent", "--disableProductStyleUrl", "--disableTelemetry")
		cmd.Env = env
		cmd.Dir = base
		p := startProc(t, "azurite", cmd, nil)
		t.Cleanup(func() { p.stop(syscall.SIGKILL, azuriteStopGrace) })
		lastErr = s.waitReady(p, 2*time.Minute) // node loads slowly on a busy machine
		if lastErr == nil {
			s.proc = p
			return s
		}
		p.stop(syscall.SIGKILL, azuriteStopGrace)
		if !strings.Contains(p.out.String(), "EADDRINUSE") {
			break
		}
	}
	t.Fatalf("testenv: Azurite did not start: %v", lastErr)
	return nil
}

// waitReady waits until the server lists containers for our signed request.
func (s *AzuriteServer) waitReady(p *proc, timeout time.Duration) error {
	client, err := s.client()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.NewListContainersPager(nil).NextPage(ctx)
		cancel()
		if p.exited() {
			return fmt.Errorf("%s", p.describeExit())
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s after %v: %v; %s", s.Endpoint, timeout, err, p.describeExit())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *AzuriteServer) client() (*azblob.Client, error) {
	cred, err := azblob.NewSharedKeyCredential(s.Account, s.Key)
	if err != nil {
		return nil, fmt.Errorf("testenv: %v", err)
	}
	return azblob.NewClientWithSharedKeyCredential(s.Endpoint+"/", cred,
		&azblob.ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
}

// Client returns a client of this server signed with the account key.
func (s *AzuriteServer) Client(t testing.TB) *azblob.Client {
	t.Helper()
	c, err := s.client()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CreateContainer creates container name, failing the test on error.
func (s *AzuriteServer) CreateContainer(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client(t).CreateContainer(ctx, name, nil); err != nil {
		t.Fatalf("testenv: creating container %s: %v", name, err)
	}
}

// Stop kills the server now, as a crash would. Cleanup stops it otherwise;
// stopping twice is harmless.
func (s *AzuriteServer) Stop() { s.proc.stop(syscall.SIGKILL, 0) }
