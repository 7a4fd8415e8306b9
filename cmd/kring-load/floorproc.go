package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The floor runs in a process of its own by default, as kring serve does:
// on two cores a handler inside the load tool's own process shares its
// scheduler with the client and skips a process switch per click, which
// flatters the floor. --floor inline keeps it in this process.

// Settings of a floor process, handed over in its environment.
const (
	envFloor       = "KRING_LOAD_FLOOR" // the platform; set only in a floor process
	envFloorSecret = "KRING_LOAD_FLOOR_SECRET"
	envFloorRedis  = "KRING_LOAD_FLOOR_REDIS"
	envFloorKey    = "KRING_LOAD_FLOOR_KEY"
)

// floorHandler is the floor's endpoint for platform's clicks.
func floorHandler(f *floor, platform, secret string) http.Handler {
	if platform == "mattermost" {
		return f.mattermostHandler(secret)
	}
	return f.slackHandler(secret)
}

// runFloorProcess is main in a floor process: it serves the floor on a
// loopback port, says the URL on its first line of output, and stops when
// its input closes (the load tool ended, however).
func runFloorProcess(ctx context.Context) error {
	f, err := openFloorKey(ctx, os.Getenv(envFloorRedis), os.Getenv(envFloorKey))
	if err != nil {
		return err
	}
	defer f.rdb.Close() // the keys are the load tool's to delete
	srv, err := serve("127.0.0.1:0", floorHandler(f, os.Getenv(envFloor), os.Getenv(envFloorSecret)))
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println(srv.URL)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the load tool closes it
	return nil
}

// startFloorProcess starts this program again as a floor for platform and
// returns the floor's URL, its process id and how to stop it.
func startFloorProcess(ctx context.Context, f *floor, platform, secret string) (string, int, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", 0, nil, fmt.Errorf("find this program to start the floor: %w", err)
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), envFloor+"="+platform, envFloorSecret+"="+secret,
		envFloorRedis+"="+f.url, envFloorKey+"="+f.key)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", 0, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	cmd.Stderr = os.Stderr
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return "", 0, nil, fmt.Errorf("start the floor: %w", err)
	}
	stop := func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", 0, nil, fmt.Errorf("the floor did not start: %w", err)
	}
	return strings.TrimSpace(line), cmd.Process.Pid, stop, nil
}
