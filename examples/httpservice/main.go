// Command httpservice is a net/http service that embeds the reactor: the
// use the library is built for.
//
// One process holds an HTTP server and a reactor with two contexts: the
// service's own, which publishes events and calls a replier, and a
// backend's, which serves "add" (a RepChannel in worker mode). The
// backend could as well be another process, Go or Python: it only needs
// to join the service's port.
//
//	POST /events?msg=hello     publishes msg on the "events" channel (202)
//	GET  /add?a=1&b=2          calls add(a, b) on a replier and answers {"sum": 3}
//
// Each HTTP request's context bounds its yoton work, so a client that
// goes away cancels its call. SIGINT or SIGTERM shut down gracefully: the
// HTTP server stops taking requests and finishes the ones in flight, then
// the reactor closes.
//
//	go run ./examples/httpservice                 # HTTP on 127.0.0.1:8080
//	go run ./examples/httpservice -http 127.0.0.1:0 -yoton localhost:httpservice
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/goyoton/yoton/channels"
	"github.com/goyoton/yoton/reactor"
)

// config holds the command-line settings.
type config struct {
	httpAddr  string                // where the HTTP server listens
	yotonAddr string                // where the service's context listens for yoton peers
	callLimit time.Duration         // the longest one add call may take
	ready     func(httpAddr string) // called once the HTTP server listens (tests)
}

func main() {
	var cfg config
	flag.StringVar(&cfg.httpAddr, "http", "127.0.0.1:8080", "HTTP listen address")
	flag.StringVar(&cfg.yotonAddr, "yoton", "127.0.0.1:0", "yoton listen address (peers join here)")
	flag.DurationVar(&cfg.callLimit, "call-limit", 2*time.Second, "the longest a request/reply call may take")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "httpservice:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. Every goroutine
// it started has ended when it returns.
func run(ctx context.Context, w io.Writer, cfg config) (err error) {
	r, err := reactor.New()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := r.Close(); err == nil {
			err = cerr
		}
	}()
	svc, backend, err := contexts(ctx, r, cfg.yotonAddr, w)
	if err != nil {
		return err
	}
	rep, err := channels.NewRepChannel(backend, "calc", channels.WithWorkers(4))
	if err != nil {
		return err
	}
	defer func() { _ = rep.Shutdown(context.Background()) }()
	if err := rep.Register("add", func(a, b int64) int64 { return a + b }); err != nil {
		return err
	}
	if err := rep.SetMode(channels.RepWorkers); err != nil {
		return err
	}
	events, err := channels.NewPubChannel(svc, "events", channels.Text)
	if err != nil {
		return err
	}
	calc, err := channels.NewReqChannel(svc, "calc")
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /events", func(rw http.ResponseWriter, req *http.Request) {
		msg := req.URL.Query().Get("msg")
		if msg == "" {
			http.Error(rw, "msg is empty", http.StatusBadRequest)
			return
		}
		if err := events.Send(req.Context(), msg); err != nil {
			http.Error(rw, err.Error(), http.StatusServiceUnavailable)
			return
		}
		rw.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /add", func(rw http.ResponseWriter, req *http.Request) {
		a, aerr := strconv.ParseInt(req.URL.Query().Get("a"), 10, 64)
		b, berr := strconv.ParseInt(req.URL.Query().Get("b"), 10, 64)
		if aerr != nil || berr != nil {
			http.Error(rw, "a and b must be integers", http.StatusBadRequest)
			return
		}
		callCtx, cancel := context.WithTimeout(req.Context(), cfg.callLimit)
		defer cancel()
		sum, err := channels.Call[int64](callCtx, calc, "add", a, b)
		if err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, context.DeadlineExceeded) {
				status = http.StatusGatewayTimeout
			}
			http.Error(rw, err.Error(), status)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]int64{"sum": sum})
	})

	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(w, "serving HTTP on http://%s\n", ln.Addr())
	if cfg.ready != nil {
		cfg.ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Graceful: stop taking requests, finish those in flight (their yoton
	// calls included), then the deferred closes end the reactor.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	<-served
	fmt.Fprintln(w, "shut down gracefully")
	return nil
}

// contexts makes the service's context, listening at addr, and the
// backend's, joined to it.
func contexts(ctx context.Context, r *reactor.Reactor, addr string, w io.Writer) (svc, backend *reactor.Context, err error) {
	if svc, err = r.NewContext(); err != nil {
		return nil, nil, err
	}
	l, err := svc.Listen(addr)
	if err != nil {
		return nil, nil, err
	}
	host, port := l.Addr()
	fmt.Fprintf(w, "yoton peers join at %s:%d\n", host, port)
	if backend, err = r.NewContext(); err != nil {
		return nil, nil, err
	}
	joinCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := backend.Connect(joinCtx, fmt.Sprintf("%s:%d", host, port), "backend"); err != nil {
		return nil, nil, err
	}
	return svc, backend, nil
}
