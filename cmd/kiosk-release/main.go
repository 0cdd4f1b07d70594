// Command kiosk-release makes and checks signed player builds. The release
// key it makes stays offline with whoever builds releases; the server and
// the players only ever get its public half.
//
//	kiosk-release keygen -out DIR                     # DIR/release.key (0600) and DIR/release.pub
//	kiosk-release sign -key DIR/release.key -version 1.2.0 -platform linux/arm64 [-out FILE] kiosk-player
//	kiosk-release verify -pub DIR/release.pub -manifest FILE kiosk-player
//	kiosk-release pub -key DIR/release.key            # print the public key again
//
// The signed build manifest (JSON) goes with the binary to the server:
// upload both in the admin page (播放器版本) or with POST
// /api/v1/player-builds. Start kiosk-server with -release-key
// DIR/release.pub so it accepts them.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
