package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child get SIGTERM when this process ends, however
// it ends (SIGKILL, or SIGPIPE when its output's reader went away): a kring
// serve left running would go on claiming the jobs of every kring on its
// Redis. The signal follows the thread that started the child, so start
// locks that thread for the child's life.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
