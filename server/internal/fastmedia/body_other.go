//go:build !linux

package fastmedia

import (
	"io"
	"net"
	"os"
)

func writeHead(nc *net.TCPConn, b []byte, more bool) error {
	_, err := nc.Write(b)
	return err
}

func sendFile(nc *net.TCPConn, f *os.File, off, n int64) error {
	_, err := io.Copy(nc, io.NewSectionReader(f, off, n))
	return err
}
