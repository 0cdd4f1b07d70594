//go:build tools

// Package tools pins the modules the project builds on while the packages
// that import them are written; it is never compiled.
package tools

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/gorilla/websocket"
	_ "github.com/labstack/echo/v4"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/robfig/cron/v3"
	_ "go.etcd.io/bbolt"
)
