//go:build pprof

package main

// Built with -tags pprof, kring serves Go's profiles on KRING_PPROF_ADDR
// (default 127.0.0.1:6060), for measuring it under the load tool:
//
//	go build -tags pprof -o kring ./cmd/kring
//	go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=5

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("KRING_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go http.ListenAndServe(addr, nil) //nolint:errcheck // a debugging aid; kring runs without it
}
