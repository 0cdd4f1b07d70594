package main

import (
	"io"

	"kiosk/server/usercmd"
)

// runUser is "kiosk-server user ...": managing accounts offline, with the
// server stopped. The work is in usercmd, which may use the store (an
// internal package of server/) where main may not.
func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return usercmd.Run(args, stdin, stdout, stderr)
}
