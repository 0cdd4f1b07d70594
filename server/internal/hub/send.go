package hub

// Send queues a pre-encoded frame (playlists.Encode) for one screen without
// blocking. It reports false when the screen is not connected, its welcome
// is not queued yet (Handler.Welcomed follows it: send from there), or the
// frame could not be queued (the connection is ending, or its queue is
// full and it was dropped); the caller keeps the message for later.
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
		// The player must see its welcome first. Whoever sends is told
		// Welcomed right after it is queued, and delivers then.
		return false
	}
	return c.trySend(outFrame{data: frame})
}
