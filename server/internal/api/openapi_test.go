package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadOpenAPI parses and validates the embedded description.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi: got %q, want 3.1.x", doc.OpenAPI)
	}
	tags := map[string]bool{}
	for _, tag := range doc.Tags {
		tags[tag.Name] = true
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.Summary == "" {
				t.Errorf("%s: no summary", where)
			}
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q also used by %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
			if len(op.Tags) == 0 {
				t.Errorf("%s: no tags", where)
			}
			for _, tag := range op.Tags {
				if !tags[tag] {
					t.Errorf("%s: tag %q is not declared under tags", where, tag)
				}
			}
			if _, ok := op.Extensions["x-kiosk-capability"].(string); !ok {
				t.Errorf("%s: no x-kiosk-capability", where)
			}
			if op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s: no responses", where)
			}
		}
	}
}

// echoParam is an echo path parameter, ":id".
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIMatchesRoutes compares the description with the real router:
// every route is described with the capability routes.go gives it, and
// nothing is described that is not routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	v := newEnv(t)

	documented := map[string]string{} // "GET /api/v1/items/{id}" → capability
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			c, _ := op.Extensions["x-kiosk-capability"].(string)
			documented[method+" "+path] = c
		}
	}

	routed := map[string]string{}
	for _, r := range v.e.Routes() {
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue // echo's not-found routes for the groups, and e.Any's other methods
		}
		if r.Path == "/admin" || strings.HasPrefix(r.Path, "/admin/") {
			continue // the admin page's static files, not the API
		}
		if strings.Contains(r.Path, "*") {
			t.Errorf("%s %s: a wildcard route the description cannot name", r.Method, r.Path)
			continue
		}
		c := string(capPublic) // /healthz and /metrics sit outside the route table
		if rule, ok := v.h.table[routeKey(r.Method, r.Path)]; ok {
			c = string(rule.cap)
		} else if strings.HasPrefix(r.Path, "/api/") {
			t.Errorf("%s %s: not in the route table", r.Method, r.Path)
		}
		routed[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = c
	}

	var missing, extra, wrongCap []string
	for k, c := range routed {
		dc, ok := documented[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case dc != c:
			wrongCap = append(wrongCap, k+": documented "+dc+", routed "+c)
		}
	}
	for k := range documented {
		if _, ok := routed[k]; !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	slices.Sort(wrongCap)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json (%d):\n\t%s", len(missing), strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("operations in openapi.json that no route serves (%d):\n\t%s", len(extra), strings.Join(extra, "\n\t"))
	}
	if len(wrongCap) > 0 {
		t.Errorf("x-kiosk-capability differs from routes.go (%d):\n\t%s", len(wrongCap), strings.Join(wrongCap, "\n\t"))
	}
	if len(routed) < 50 {
		t.Errorf("only %d routes found: is the router built?", len(routed))
	}
}

func TestOpenAPIServed(t *testing.T) {
	v := newEnv(t)
	rec := v.do(http.MethodGet, "/api/v1/openapi.json", "", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json without a credential: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type: %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc == "" {
		t.Error("no Cache-Control")
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if got["openapi"] != "3.1.0" {
		t.Errorf("openapi: %v", got["openapi"])
	}
	if string(rec.Body.Bytes()) != string(openAPIDoc) {
		t.Error("body differs from the embedded openapi.json")
	}
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	req := httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match %s: got %d with %d bytes, want 304 and no body", etag, rec.Code, rec.Body.Len())
	}
}
