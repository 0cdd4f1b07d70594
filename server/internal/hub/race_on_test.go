//go:build race

package hub

// raceEnabled: the race detector inflates stacks and heap, so the memory
// budget is only enforced without it.
const raceEnabled = true
