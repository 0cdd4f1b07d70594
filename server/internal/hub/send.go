package hub

// Send queues a pre-encoded frame (playlists.Encode) for one screen without
// blocking. It reports false when the screen is not connected or the frame
// could not be queued (the connection is ending, or its queue is full and it
// was dropped); the caller keeps the message for the next connection.
//
// A frame sent before the screen's welcome was queued, in particular from
// inside Handler.Hello, is parked and follows the welcome, so the player
// always sees its welcome first.
func (h *Hub) Send(screenID string, frame []byte) bool {
	if len(frame) == 0 {
		return false
	}
	h.mu.RLock()
	c := h.clients[screenID]
	h.mu.RUnlock()
	if c == nil {
		return false
	}
	return c.sendFrame(frame)
}

func (c *client) sendFrame(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.welcomed {
		select {
		case <-c.done:
			return false
		default:
		}
		// Parked frames are queued in one go after the welcome; more than
		// half the send queue could get the screen dropped as slow. The
		// caller delivers the rest later (devices does so as results come).
		if len(c.parked) >= max(1, cap(c.send)/2) {
			return false
		}
		c.parked = append(c.parked, frame)
		return true
	}
	return c.trySend(outFrame{data: frame})
}
