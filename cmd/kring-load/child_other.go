//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing where the kernel cannot end a child with its
// parent: a kring-load that is killed leaves its kring serve running.
func dieWithParent(cmd *exec.Cmd) {}
