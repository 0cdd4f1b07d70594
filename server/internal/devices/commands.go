package devices

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/hub"
	"kiosk/server/internal/store"
)

// Limits and defaults for remote commands.
const (
	DefaultCommandTTL = 10 * time.Minute
	MaxCommandTTL     = 24 * time.Hour
	MinCommandTTL     = time.Second
	// MaxCommandArgs bounds a command's args so the frame stays far below
	// the socket's frame limit (playlists.MaxMessageBytes).
	MaxCommandArgs = 4 << 10
	// DefaultSweepEvery is how often open commands are checked for expiry.
	// The check is a read transaction over the open set only.
	DefaultSweepEvery = time.Second
)

// commandTypes lists the accepted types for error messages.
var commandTypes = []string{
	playlists.CmdReload, playlists.CmdIdentify, playlists.CmdResync,
	playlists.CmdClearCache, playlists.CmdRestart, playlists.CmdScreenshot,
}

// CommandOptions configure Commands.
type CommandOptions struct {
	Store *store.Store
	// Send queues a pre-encoded frame to a connected screen (hub.Send); it
	// reports false when the screen is not connected.
	Send       func(screenID string, frame []byte) bool
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
	SweepEvery time.Duration
}

// Commands queues remote commands, delivers them to screens (at once when
// connected, else when the screen says hello again), records results and
// expires what was not answered in time. Delivery is at least once; the
// player remembers executed ids, so a command runs at most once, and the
// store only ever moves a command forward.
type Commands struct {
	opts  CommandOptions
	log   *slog.Logger
	total *prometheus.CounterVec
}

// NewCommands returns Commands over opts.Store.
func NewCommands(opts CommandOptions) *Commands {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = DefaultSweepEvery
	}
	if opts.Send == nil {
		opts.Send = func(string, []byte) bool { return false }
	}
	c := &Commands{
		opts: opts,
		log:  opts.Logger,
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_commands_total",
			Help: "Remote commands by type and the status they reached (queued, delivered, done, failed, expired).",
		}, []string{"type", "status"}),
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(c.total); err != nil {
			c.log.Warn("register command metrics", "error", err)
		}
	}
	return c
}

// CommandRequest is what an administrator asks for.
type CommandRequest struct {
	Type string
	Args json.RawMessage
	TTL  time.Duration // 0: DefaultCommandTTL
}

func (req *CommandRequest) validate() error {
	if !playlists.ValidCommand(req.Type) {
		if req.Type == "" {
			return playlists.FieldError{Field: "type", Problem: "is required; one of " + strings.Join(commandTypes, ", ")}
		}
		return playlists.FieldError{Field: "type", Problem: fmt.Sprintf("unknown command type %q; allowed: %s", req.Type, strings.Join(commandTypes, ", "))}
	}
	if req.TTL == 0 {
		req.TTL = DefaultCommandTTL
	}
	if req.TTL < MinCommandTTL || req.TTL > MaxCommandTTL {
		return playlists.FieldError{Field: "ttl_s", Problem: fmt.Sprintf("must be between %d and %d seconds", int(MinCommandTTL/time.Second), int(MaxCommandTTL/time.Second))}
	}
	if len(req.Args) > MaxCommandArgs {
		return playlists.FieldError{Field: "args", Problem: fmt.Sprintf("is %d bytes, at most %d allowed", len(req.Args), MaxCommandArgs)}
	}
	if len(req.Args) > 0 && string(req.Args) == "null" {
		req.Args = nil
	}
	return nil
}

// Create queues a command for screenID and sends it at once if the screen
// is connected. An unknown screen is a store.NotFoundError.
func (c *Commands) Create(screenID string, req CommandRequest) (store.Command, error) {
	if err := req.validate(); err != nil {
		return store.Command{}, err
	}
	cmd, err := c.create(screenID, req)
	if err != nil {
		return store.Command{}, err
	}
	return c.deliver(cmd), nil
}

// ScreenFailure is a screen of a group command whose command could not be
// queued, typically because the screen was deleted while the group was
// being fanned out. Err is the store's error; the API decides how much of
// it a client may see.
type ScreenFailure struct {
	Screen string
	Err    error
}

// GroupCommands is the outcome of CreateForGroup: the commands queued (as
// they stand after the first delivery attempt) and the screens that failed.
type GroupCommands struct {
	Commands []store.Command
	Failed   []ScreenFailure
}

// CreateForGroup queues one command per screen in group groupID and its
// nested groups, and sends each to the screens that are connected.
//
// All the commands are stored in one transaction and the deliveries
// recorded in another, so a district's group of hundreds of screens costs
// two fsyncs, not two per screen. A screen deleted while the group was
// being fanned out is reported in Failed and the others go on. An error is
// returned only for a bad request, an unknown group, or when the group has
// screens and not one command could be queued (the first screen's error).
func (c *Commands) CreateForGroup(groupID string, req CommandRequest) (GroupCommands, error) {
	if err := req.validate(); err != nil {
		return GroupCommands{}, err
	}
	ids, err := c.opts.Store.ScreensInGroup(groupID)
	if err != nil {
		return GroupCommands{}, err
	}
	out := GroupCommands{Commands: make([]store.Command, 0, len(ids)), Failed: []ScreenFailure{}}
	if len(ids) == 0 {
		return out, nil
	}
	now := c.opts.Now().UTC()
	batch := make([]store.Command, len(ids))
	for i, id := range ids {
		batch[i] = store.Command{ScreenID: id, Type: req.Type, Args: req.Args, CreatedAt: now, ExpiresAt: now.Add(req.TTL)}
	}
	stored, errs, err := c.opts.Store.CreateCommands(batch)
	if err != nil {
		return out, fmt.Errorf("queue %s for group %s: %w", req.Type, groupID, err)
	}
	var queued []store.Command
	for i, cmd := range stored {
		if errs[i] != nil {
			c.log.Warn("group command not queued for screen", "group", groupID, "screen", ids[i], "type", req.Type, "error", errs[i])
			out.Failed = append(out.Failed, ScreenFailure{Screen: ids[i], Err: errs[i]})
			continue
		}
		c.total.WithLabelValues(cmd.Type, store.CommandQueued).Inc()
		queued = append(queued, cmd)
	}
	if len(queued) == 0 {
		f := out.Failed[0]
		return out, fmt.Errorf("queue command for screen %s: %w", f.Screen, f.Err)
	}
	c.log.Info("group command queued", "group", groupID, "type", req.Type, "screens", len(queued), "expires_at", now.Add(req.TTL))
	out.Commands = c.deliverMany(queued)
	return out, nil
}

// deliverMany sends each command whose screen is connected and records
// those deliveries in one transaction; it returns the commands as they now
// stand, in order.
func (c *Commands) deliverMany(cmds []store.Command) []store.Command {
	var sent []string
	at := map[string]int{}
	for i, cmd := range cmds {
		frame, err := playlists.Encode(playlists.MsgCommand, cmd.Wire())
		if err != nil {
			c.log.Error("encode command", "command", cmd.ID, "error", err)
			continue
		}
		if c.opts.Send(cmd.ScreenID, frame) {
			sent = append(sent, cmd.ID)
			at[cmd.ID] = i
		}
	}
	if len(sent) == 0 {
		return cmds
	}
	updated, changed, err := c.opts.Store.MarkDeliveredMany(sent, c.opts.Now())
	if err != nil {
		c.log.Error("record command deliveries", "commands", len(sent), "error", err)
		return cmds
	}
	for k, id := range sent {
		i := at[id]
		if changed[k] && cmds[i].Status == store.CommandQueued && updated[k].Status == store.CommandDelivered {
			c.total.WithLabelValues(cmds[i].Type, store.CommandDelivered).Inc()
		}
		if updated[k].ID != "" {
			cmds[i] = updated[k]
		}
	}
	return cmds
}

func (c *Commands) create(screenID string, req CommandRequest) (store.Command, error) {
	now := c.opts.Now().UTC()
	cmd, err := c.opts.Store.CreateCommand(store.Command{
		ScreenID:  screenID,
		Type:      req.Type,
		Args:      req.Args,
		CreatedAt: now,
		ExpiresAt: now.Add(req.TTL),
	})
	if err != nil {
		return store.Command{}, err
	}
	c.total.WithLabelValues(cmd.Type, store.CommandQueued).Inc()
	c.log.Info("command queued", "screen", screenID, "command", cmd.ID, "type", cmd.Type, "expires_at", cmd.ExpiresAt)
	return cmd, nil
}

// deliver sends cmd if its screen is connected and records the delivery;
// it returns the command as it now stands.
func (c *Commands) deliver(cmd store.Command) store.Command {
	frame, err := playlists.Encode(playlists.MsgCommand, cmd.Wire())
	if err != nil {
		c.log.Error("encode command", "command", cmd.ID, "error", err)
		return cmd
	}
	if !c.opts.Send(cmd.ScreenID, frame) {
		return cmd
	}
	updated, changed, err := c.opts.Store.MarkDelivered(cmd.ID, c.opts.Now())
	if err != nil {
		c.log.Error("record command delivery", "command", cmd.ID, "error", err)
		return cmd
	}
	if changed && cmd.Status == store.CommandQueued && updated.Status == store.CommandDelivered {
		c.total.WithLabelValues(cmd.Type, store.CommandDelivered).Inc()
	}
	c.log.Debug("command sent", "screen", cmd.ScreenID, "command", cmd.ID, "deliveries", updated.Deliveries)
	return updated
}

// Deliver sends screenID every open, unexpired command, oldest first. The
// hub calls it (through Registry.Hello) when the screen says hello: frames
// sent then follow the welcome. Delivered-but-unanswered commands are sent
// again because the old connection may have lost them; the player answers a
// repeated id from memory.
func (c *Commands) Deliver(screenID string) {
	c.deliverPending(screenID, false, reconnectBurst)
}

// reconnectBurst bounds the commands sent at once to a screen that just
// said hello: half the hub's default send queue, which the welcome and the
// first frames share, so a screen with many pending commands is not
// dropped as slow the moment it connects. The rest follow one per result.
const reconnectBurst = hub.DefaultSendBuffer / 2

func (c *Commands) deliverPending(screenID string, queuedOnly bool, limit int) {
	cmds, err := c.opts.Store.PendingCommands(screenID, c.opts.Now())
	if err != nil {
		c.log.Error("load pending commands", "screen", screenID, "error", err)
		return
	}
	sent := 0
	for _, cmd := range cmds {
		if queuedOnly && cmd.Status != store.CommandQueued {
			continue
		}
		if sent == limit {
			return
		}
		sent++
		if d := c.deliver(cmd); d.Deliveries == cmd.Deliveries {
			// Not sent (disconnected, or the hub's queue is full): the rest
			// waits for the next result or the next hello, in order.
			return
		}
	}
}

// Result records a player's answer. A result for an unknown, finished or
// foreign command is ignored: a command's outcome is written once.
func (c *Commands) Result(screenID string, r playlists.CommandResult) {
	cmd, changed, err := c.opts.Store.FinishCommand(screenID, r, c.opts.Now())
	switch {
	case err != nil:
		c.log.Warn("command result ignored", "screen", screenID, "command", r.ID, "error", err)
		return
	case !changed:
		c.log.Info("late or repeated command result ignored", "screen", screenID, "command", r.ID, "status", cmd.Status)
		return
	}
	c.total.WithLabelValues(cmd.Type, cmd.Status).Inc()
	c.log.Info("command finished", "screen", screenID, "command", cmd.ID, "type", cmd.Type,
		"status", cmd.Status, "result", cmd.Result, "error", cmd.Error)
	// Commands that did not fit in the reconnect burst go now, one answer
	// making room for the next.
	c.deliverPending(screenID, true, -1)
}

// Expire marks open commands past their expiry as expired.
func (c *Commands) Expire() error {
	expired, err := c.opts.Store.ExpireCommands(c.opts.Now())
	if err != nil {
		return fmt.Errorf("expire commands: %w", err)
	}
	for _, cmd := range expired {
		c.total.WithLabelValues(cmd.Type, store.CommandExpired).Inc()
		c.log.Info("command expired", "screen", cmd.ScreenID, "command", cmd.ID, "type", cmd.Type, "delivered", cmd.DeliveredAt != nil)
	}
	return nil
}

// Run sweeps for expired commands every SweepEvery until ctx ends.
func (c *Commands) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Expire(); err != nil {
				c.log.Error("command expiry sweep", "error", err)
			}
		}
	}
}

// CommandResult implements hub.Handler.
func (r *Registry) CommandResult(screenID string, res playlists.CommandResult) {
	if r.opts.Commands != nil {
		r.opts.Commands.Result(screenID, res)
	}
}
