// Package playlists owns the domain shared by the server and the player:
// items, playlists, schedules, targets, screens, the manifest a screen plays
// from, the messages that cross the websocket, and the rules that decide what
// plays on a screen at a given instant.
//
// It does no I/O and imports neither the server nor the player, so the very
// same code computes a manifest on the server and resolves it on the screen.
package playlists
