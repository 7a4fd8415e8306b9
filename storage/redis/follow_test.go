package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// replyErr is an error reply of a Redis server.
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

// TestClusterClientFollowsFailover checks the two settings that let a
// Cluster client get past a hung master (TestClusterFailover shows them
// at work): a retry bound like the other clients', and a reload of the
// slot map whenever a node does not answer, and only then.
func TestClusterClientFollowsFailover(t *testing.T) {
	opts, err := parse("h1:7000,h2:7001")
	if err != nil {
		t.Fatal(err)
	}
	opts.bound()
	if got := opts.cluster.MaxRedirects; got != maxRedirects {
		t.Errorf("cluster MaxRedirects = %d, want %d", got, maxRedirects)
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{goredis.Nil, false},
		{context.Canceled, false},
		{replyErr("ERR unknown command"), false},
		{replyErr("NOSCRIPT No matching script"), false},
		{fmt.Errorf("vote: %w", replyErr("CLUSTERDOWN The cluster is down")), true},
		{refused, true},
		{fmt.Errorf("claim jobs: %w", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}), true},
		{context.DeadlineExceeded, true},
		{io.EOF, true},
	} {
		if got := unanswered(c.err); got != c.want {
			t.Errorf("unanswered(%v) = %t, want %t", c.err, got, c.want)
		}
	}
}
