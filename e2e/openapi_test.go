package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// openAPIFile is the server's API description (served at
// /api/v1/openapi.json); tests run in the package directory.
const openAPIFile = "../server/internal/api/openapi.json"

// TestMain checks every API exchange the end-to-end tests make against the
// API description: the harness and the people helpers talk through
// http.DefaultTransport, which is swapped for a validating one. After the
// tests, any mismatch fails the run with a list of them.
func TestMain(m *testing.M) {
	v, err := newAPIValidator(openAPIFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		os.Exit(2)
	}
	http.DefaultTransport = &validatingTransport{next: http.DefaultTransport, v: v}
	code := m.Run()
	if report := v.report(); report != "" {
		fmt.Fprint(os.Stderr, report)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// apiValidator holds the description and the mismatches seen so far.
type apiValidator struct {
	router     routers.Router
	operations []string // "METHOD /path" of every operation described

	mu        sync.Mutex
	checked   int
	exercised map[string]bool // operations the tests reached
	problems  map[string]int  // "METHOD /path status: what failed" → times seen
	firstSeen []string        // problems in the order they first occurred
}

func newAPIValidator(file string) (*apiValidator, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the API description: %w", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	router, err := legacy.NewRouter(doc) // validates the document too
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	sort.Strings(ops)
	return &apiValidator{router: router, operations: ops, problems: map[string]int{}, exercised: map[string]bool{}}, nil
}

// record notes a mismatch of an exchange with path (the description's
// template where the route is known).
func (v *apiValidator) record(req *http.Request, path string, status int, what string) {
	if len(what) > 600 {
		what = what[:600] + "…"
	}
	key := fmt.Sprintf("%s %s → %d: %s", req.Method, path, status, what)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.problems[key] == 0 {
		v.firstSeen = append(v.firstSeen, key)
	}
	v.problems[key]++
}

// report lists the mismatches, or is empty when there were none.
func (v *apiValidator) report() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.problems) == 0 {
		var missed []string
		for _, op := range v.operations {
			if !v.exercised[op] {
				missed = append(missed, op)
			}
		}
		fmt.Fprintf(os.Stderr, "e2e: %d API exchanges matched %s; they reached %d of its %d operations (not: %s)\n",
			v.checked, openAPIFile, len(v.operations)-len(missed), len(v.operations), strings.Join(missed, ", "))
		return ""
	}
	keys := append([]string(nil), v.firstSeen...)
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "\nFAIL: %d kinds of API exchange do not match %s (of %d checked):\n", len(keys), openAPIFile, v.checked)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s", k)
		if n := v.problems[k]; n > 1 {
			fmt.Fprintf(&b, " (%d times)", n)
		}
		b.WriteString("\n")
	}
	b.WriteString("Fix the description (server/internal/api/openapi.json) or the server.\n")
	return b.String()
}

// validatingTransport validates requests to the API on loopback, and their
// answers, against the description.
type validatingTransport struct {
	next http.RoundTripper
	v    *apiValidator
}

func (t *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !checkedExchange(req) {
		return t.next.RoundTrip(req)
	}
	route, pathParams, findErr := t.v.router.FindRoute(req)

	// The body is read here and handed on as a copy (a RoundTripper
	// should leave the request alone, but a test transport may: the
	// request goes out with the same bytes).

	// Validate the request before it is sent, while its body can be read;
	// judge the outcome once the server has answered.
	var reqErr error
	if findErr == nil {
		var body []byte
		if req.Body != nil && req.Body != http.NoBody {
			var err error
			if body, err = io.ReadAll(req.Body); err != nil {
				return nil, err
			}
			req.Body.Close()
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		reqErr = validateRequest(req, body, route, pathParams)
	}

	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	t.v.mu.Lock()
	t.v.checked++
	if findErr == nil {
		t.v.exercised[req.Method+" "+route.Path] = true
	}
	t.v.mu.Unlock()

	switch {
	case findErr != nil:
		// Probing a route that does not exist is fine when the server
		// agrees; an answer from an undescribed route is not.
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.v.record(req, req.URL.Path, resp.StatusCode, "not in the description: "+findErr.Error())
		}
		return resp, nil
	case reqErr != nil && resp.StatusCode < 400:
		// Tests send bad requests on purpose; only a request the server
		// accepted but the description forbids is a mismatch.
		t.v.record(req, route.Path, resp.StatusCode, "request accepted but invalid by the description: "+reqErr.Error())
	}
	if err := validateResponse(req, resp, route, pathParams); err != nil {
		t.v.record(req, route.Path, resp.StatusCode, "response: "+err.Error())
	}
	return resp, nil
}

// checkedExchange reports whether req goes to the API of a server on
// loopback and is not a websocket upgrade.
func checkedExchange(req *http.Request) bool {
	p := req.URL.Path
	if !strings.HasPrefix(p, "/api/v1/") && p != "/healthz" && p != "/metrics" {
		return false
	}
	if strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		return false
	}
	host := req.URL.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var validationOptions = func() *openapi3filter.Options {
	o := &openapi3filter.Options{
		// The server checks credentials itself (the tests cover that); here
		// only the shape of the exchange is checked.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// A body where the description has none is a mismatch.
		RejectWhenRequestBodyNotSpecified: true,
		// A status the operation does not list is a mismatch.
		IncludeResponseStatus: true,
	}
	// Where and what, without the whole schema and value.
	o.WithCustomSchemaErrorFunc(func(se *openapi3.SchemaError) string {
		return fmt.Sprintf("at /%s: %s", strings.Join(se.JSONPointer(), "/"), se.Reason)
	})
	return o
}()

func validateRequest(req *http.Request, body []byte, route *routers.Route, params map[string]string) error {
	opts := *validationOptions
	// A copy: validation reads the body, which must still go to the server.
	r := req.Clone(context.Background())
	r.Body = http.NoBody
	if len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	switch ct := mediaType(req.Header.Get("Content-Type")); {
	case len(body) == 0:
	case ct == "":
		// The server reads a body without a content type as JSON.
		r.Header.Set("Content-Type", "application/json")
	case ct != "application/json":
		// Uploads (multipart forms, images): the description says which
		// content types an operation takes; their bytes are not checked.
		if rb := route.Operation.RequestBody; rb == nil || rb.Value == nil || rb.Value.Content.Get(ct) == nil {
			return fmt.Errorf("request content type %q is not one the operation takes", ct)
		}
		opts.ExcludeRequestBody = true
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: route, Options: &opts,
	})
}

func validateResponse(req *http.Request, resp *http.Response, route *routers.Route, params map[string]string) error {
	opts := *validationOptions
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: &opts,
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(nil)),
		Options: &opts,
	}
	if mediaType(resp.Header.Get("Content-Type")) == "application/json" {
		// JSON answers are small; read and put back what the test reads.
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		input.SetBodyBytes(body)
	}
	// Other answers (media, archives, CSV, metrics) stream and have no
	// schema in the description: only their status, headers and content
	// type are checked, and their bodies stay unread.
	err := openapi3filter.ValidateResponse(context.Background(), input)
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) && re.Reason != "" && re.Err != nil {
		return fmt.Errorf("%s: %v", re.Reason, re.Err)
	}
	return err
}

func mediaType(header string) string {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(header))
	}
	return mt
}
