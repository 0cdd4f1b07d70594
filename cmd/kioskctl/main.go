// Command kioskctl is the command-line client of a Kiosk server, for
// scripts and technicians. It talks only to the public HTTP API.
//
//	KIOSK_SERVER=https://signs.example KIOSK_TOKEN=kpt_... kioskctl screens --state offline
//
// Run "kioskctl help" for the commands and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/term"

	"kiosk/kioskctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := kioskctl.Env{
		Getenv:           os.Getenv,
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		StdinIsTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		ReadPassword:     func() ([]byte, error) { return term.ReadPassword(int(os.Stdin.Fd())) },
		ConfigDir:        configDir(),
	}
	os.Exit(kioskctl.Run(ctx, os.Args[1:], env))
}

// configDir is $XDG_CONFIG_HOME/kioskctl, else ~/.config/kioskctl.
func configDir() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "kioskctl")
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "kioskctl")
	}
	return ""
}
