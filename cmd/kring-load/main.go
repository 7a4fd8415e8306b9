// Command kring-load drives a kring serve over HTTP as Slack or Mattermost
// does during a busy poll, and measures it against a floor: a handler that
// only checks the request is genuine and writes the vote with one HSET.
//
// One invocation starts a stand-in of the platform's API on loopback,
// starts kring serve pointed at it (or uses the one --target names),
// creates a poll with a slash command, sends --n clicks by as many users,
// --c at a time, first to kring and then to the floor, and prints for both
// the throughput, the ack latency, the errors, the votes lost (read back
// from the store), kring's message updates per second and whether its
// message shows the final count. It exits with status 1 when a vote is
// lost, a click fails or the message does not show the final count within
// --final-wait of the last answer.
//
//	go run ./cmd/kring-load --platform slack --n 20000 --c 50
//
// kring serve runs as a separate process, built from this module with go
// build (or the binary --kring names) and configured through its KRING_*
// variables: package main cannot be imported, a wiring package shared with
// cmd/kring would mean moving kring's wiring for a tool's sake, and a
// separate process is what a platform talks to in production, with its
// own CPU, memory and logging costs counted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv(envFloor) != "" {
		if err := runFloorProcess(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "kring-load floor:", err)
			os.Exit(1)
		}
		return
	}
	_, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "kring-load:", err)
		os.Exit(1)
	}
}

// run is the program: it parses args, runs the load and writes the report
// to out. The error is non-nil when the load could not run or when the
// report shows a lost vote, a failed click or a wrong final message.
func run(ctx context.Context, args []string, out, errw io.Writer) (*Report, error) {
	cfg, err := parseFlags(args, errw)
	if err != nil {
		return nil, err
	}
	l := &load{cfg: cfg, out: out, log: errw}
	rep, err := l.run(ctx)
	if err != nil {
		return rep, err
	}
	rep.Print(out)
	if problems := rep.Problems(); len(problems) > 0 {
		return rep, fmt.Errorf("%d problem(s): %s", len(problems), joinProblems(problems))
	}
	return rep, nil
}
