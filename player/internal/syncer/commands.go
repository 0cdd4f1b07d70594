package syncer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// maxPendingResults bounds results kept for a connection that is down. Lost
// ones are not lost for good: the server redelivers an unanswered command
// and the player answers it from its memory of executed ids.
const maxPendingResults = 64

// maxRunningCommands bounds commands executing at once; a flood of command
// frames is answered with a failure rather than piling up goroutines.
const maxRunningCommands = 8

// commandState is the syncer's part of remote commands: it hands commands
// to Config.OnCommand off the read loop (a screenshot may take seconds; pings
// must not wait for it), queues their results for the session goroutine, the
// connection's only writer, and carries forced refetch requests to the
// fetch loop.
type commandState struct {
	sig     chan struct{} // a result is waiting to be sent
	wg      sync.WaitGroup
	running atomic.Int32

	mu      sync.Mutex
	pending []playlists.CommandResult

	refetch atomic.Bool // the next fetch pass must re-check the applied version
	wmu     sync.Mutex
	waiters []chan error // Refetch callers waiting for that pass
}

func newCommandState() commandState {
	return commandState{sig: make(chan struct{}, 1)}
}

// dispatch routes one frame from the server: commands go to OnCommand on
// their own goroutine, everything else to handle.
func (c *Client) dispatch(ctx context.Context, env playlists.Envelope) {
	if env.Type != playlists.MsgCommand {
		c.handle(env)
		return
	}
	var cmd playlists.Command
	if err := env.DecodeData(&cmd); err != nil || cmd.ID == "" {
		c.log.Warn("bad command frame ignored", "error", err)
		return
	}
	if c.cfg.OnCommand == nil {
		c.queueResult(playlists.CommandResult{ID: cmd.ID, Error: "this player does not execute remote commands"})
		return
	}
	c.log.Info("command received", "command", cmd.ID, "type", cmd.Type)
	if c.cmds.running.Add(1) > maxRunningCommands {
		c.cmds.running.Add(-1)
		c.log.Warn("command refused: too many running", "command", cmd.ID, "running", maxRunningCommands)
		c.queueResult(playlists.CommandResult{ID: cmd.ID, Error: fmt.Sprintf("player busy: %d commands already running", maxRunningCommands)})
		return
	}
	c.cmds.wg.Add(1)
	go func() {
		defer c.cmds.wg.Done()
		defer c.cmds.running.Add(-1)
		r := c.cfg.OnCommand(ctx, cmd)
		r.ID = cmd.ID
		c.queueResult(r)
	}()
}

// queueResult keeps r for the session goroutine to send, now or after the
// next hello.
func (c *Client) queueResult(r playlists.CommandResult) {
	c.cmds.mu.Lock()
	if len(c.cmds.pending) >= maxPendingResults {
		c.cmds.pending = c.cmds.pending[1:]
	}
	c.cmds.pending = append(c.cmds.pending, r)
	c.cmds.mu.Unlock()
	signal(c.cmds.sig)
}

// flushResults sends every queued result. On a write failure the unsent
// ones stay queued for the next connection.
func (c *Client) flushResults(conn *websocket.Conn) error {
	c.cmds.mu.Lock()
	batch := c.cmds.pending
	c.cmds.pending = nil
	c.cmds.mu.Unlock()
	for i, r := range batch {
		if err := c.write(conn, playlists.MsgCommandResult, r); err != nil {
			c.cmds.mu.Lock()
			c.cmds.pending = append(batch[i:], c.cmds.pending...)
			c.cmds.mu.Unlock()
			return err
		}
		c.log.Info("command result sent", "command", r.ID, "ok", r.OK, "result", r.Result, "error", r.Error)
		if c.cfg.OnResultSent != nil {
			c.cfg.OnResultSent(r)
		}
	}
	return nil
}

// errNoVersion: a refetch was asked for before the server ever said which
// version this screen runs.
var errNoVersion = errors.New("refetch: no version known yet (never connected to the server)")

// Refetch makes the fetch loop check the wanted version against the server
// again even when it is the applied one, downloading every asset the cache
// does not hold (after Verify or DropAssets removed some) and applying it
// anew. It waits for that pass and returns its error, or ctx's.
func (c *Client) Refetch(ctx context.Context) error {
	ch := make(chan error, 1)
	c.cmds.wmu.Lock()
	c.cmds.waiters = append(c.cmds.waiters, ch)
	c.cmds.wmu.Unlock()
	c.cmds.refetch.Store(true)
	signal(c.wantSig)
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return fmt.Errorf("refetch: %w", ctx.Err())
	}
}

// refetchDone tells every Refetch caller how the forced pass ended.
func (c *Client) refetchDone(err error) {
	c.cmds.wmu.Lock()
	waiters := c.cmds.waiters
	c.cmds.waiters = nil
	c.cmds.wmu.Unlock()
	for _, ch := range waiters {
		ch <- err
	}
}
