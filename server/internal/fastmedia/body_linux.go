package fastmedia

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
)

// writeHead sends an answer's head; with more, the kernel holds it back
// (MSG_MORE) to leave in the same packets as the first bytes of the body.
func writeHead(nc *net.TCPConn, b []byte, more bool) error {
	flags := 0
	if more {
		flags = syscall.MSG_MORE
	}
	rc, err := nc.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			n, err := syscall.SendmsgN(int(fd), b, nil, nil, flags|syscall.MSG_NOSIGNAL)
			if n > 0 {
				b = b[n:]
			}
			switch {
			case err == syscall.EINTR:
			case err == syscall.EAGAIN:
				return false // wait until writable
			case err != nil:
				werr = err
				return true
			}
		}
		return true
	})
	return errors.Join(err, werr)
}

// sendFile sends n bytes of f from off by sendfile(2) with an explicit
// offset: the file's own offset is never used or moved.
func sendFile(nc *net.TCPConn, f *os.File, off, n int64) error {
	if n == 0 {
		return nil
	}
	rc, err := nc.SyscallConn()
	if err != nil {
		return err
	}
	src := int(f.Fd())
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for n > 0 {
			m, err := syscall.Sendfile(int(fd), src, &off, int(min(n, 1<<30)))
			if m > 0 {
				n -= int64(m)
			}
			switch {
			case err == syscall.EINTR:
			case err == syscall.EAGAIN:
				return false
			case err != nil:
				werr = err
				return true
			case m == 0:
				werr = io.ErrUnexpectedEOF // the file is shorter than its size
				return true
			}
		}
		return true
	})
	runtime.KeepAlive(f)
	return errors.Join(err, werr)
}

// peek reads what has arrived of a connection's first bytes into b
// without consuming them (MSG_PEEK), waiting until at least one byte came
// or the read deadline passed. A connection that is not a media request
// can then go to net/http as the plain TCP connection it is: no wrapper
// replaying bytes, which would sit in every read for the connection's
// life (every player's websocket).
func peek(nc *net.TCPConn, b []byte) (int, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, perr = syscall.Recvfrom(int(fd), b, syscall.MSG_PEEK)
		return !errors.Is(perr, syscall.EAGAIN)
	})
	if err != nil {
		return 0, err
	}
	if perr != nil {
		return 0, os.NewSyscallError("recvfrom", perr)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
