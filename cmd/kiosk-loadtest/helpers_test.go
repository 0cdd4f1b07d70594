package main

import (
	"fmt"

	"kiosk/playlists"
)

func testEntries(durations ...int) []playlists.Entry {
	var out []playlists.Entry
	for i, d := range durations {
		out = append(out, playlists.Entry{Item: playlists.Item{ID: fmt.Sprintf("i%d", i), DurationS: d}, Playlist: "p", Schedule: "s"})
	}
	return out
}
