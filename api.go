package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// apiError is the only error a client ever sees: Better Auth's {"message","code"} body with a
// status. An empty Code sends {"message"} alone, as some upstream errors do; an empty Message and
// Code send an empty body (upstream's ctx.error(status) with nothing else).
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func apiErr(status int, code, message string) *apiError {
	return &apiError{Status: status, Code: code, Message: message}
}

// Core error codes (upstream BASE_ERROR_CODES and the router's own), shared by every file.
var (
	errBadJSON                 = apiErr(400, "BAD_REQUEST", "Invalid JSON in request body")
	errBodyTooLarge            = apiErr(413, "PAYLOAD_TOO_LARGE", "Request body is too large")
	errUnauthorized            = apiErr(401, "UNAUTHORIZED", "Unauthorized")
	errUnauthorizedEmpty       = &apiError{Status: 401}
	errNotFoundEmpty           = &apiError{Status: 404}
	errUserNotFound            = apiErr(400, "USER_NOT_FOUND", "User not found")
	errInvalidPassword         = apiErr(400, "INVALID_PASSWORD", "Invalid password")
	errInvalidEmail            = apiErr(400, "INVALID_EMAIL", "Invalid email")
	errInvalidEmailOrPassword  = apiErr(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
	errInvalidToken            = apiErr(400, "INVALID_TOKEN", "Invalid token")
	errPasswordTooShort        = apiErr(400, "PASSWORD_TOO_SHORT", "Password too short")
	errPasswordTooLong         = apiErr(400, "PASSWORD_TOO_LONG", "Password too long")
	errUserExistsUseAnother    = apiErr(422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
	errEmailCannotBeUpdated    = apiErr(400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	errCredentialAccountAbsent = apiErr(400, "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found")
	errSessionExpired          = apiErr(400, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
	errSessionNotFresh         = apiErr(403, "SESSION_NOT_FRESH", "Session is not fresh")
	errFailedToGetSession      = apiErr(401, "FAILED_TO_GET_SESSION", "Failed to get session")
	errInvalidOrigin           = apiErr(403, "INVALID_ORIGIN", "Invalid origin")
	errMissingOrigin           = apiErr(403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin")
	errCrossSiteLogin          = apiErr(403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", "Cross-site navigation login blocked. This request appears to be a CSRF attack.")
	errNoFieldsToUpdate        = apiErr(400, "", "No fields to update")
	errMethodNeedsDefer        = apiErr(405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", "POST method requires deferSessionRefresh to be enabled in session config")
	errTooManyRequests         = apiErr(429, "", "Too many requests. Please try again later.")
	errServiceUnavailable      = apiErr(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable")
	errInternal                = apiErr(500, "INTERNAL_SERVER_ERROR", "Internal Server Error")
)

// urlFieldErrors are the callback-like inputs upstream's origin check validates on every request,
// with the error each one answers when it points outside the trusted origins.
var urlFieldErrors = map[string]*apiError{
	"callbackURL":        apiErr(403, "INVALID_CALLBACK_URL", "Invalid callbackURL"),
	"redirectTo":         apiErr(403, "INVALID_REDIRECT_URL", "Invalid redirectURL"),
	"errorCallbackURL":   apiErr(403, "INVALID_ERROR_CALLBACK_URL", "Invalid errorCallbackURL"),
	"newUserCallbackURL": apiErr(403, "INVALID_NEW_USER_CALLBACK_URL", "Invalid newUserCallbackURL"),
}

func validationError(issues ...string) *apiError {
	return apiErr(400, "VALIDATION_ERROR", strings.Join(issues, "; "))
}

// writeError is the one place errors become responses. Anything that is not an apiError is logged
// with its cause and answered without detail: 503 when Postgres is unreachable, else 500.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case isUnavailable(err):
		slog.WarnContext(r.Context(), "database unavailable", "method", r.Method, "route", logRoute(r), "err", err)
		ae = errServiceUnavailable
	default:
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", logRoute(r), "err", err)
		ae = errInternal
	}
	noteErrorCode(r, ae.Code)
	if ae.Code == "" && ae.Message == "" {
		// Upstream's APIError without a body still says it is JSON (the router's own 404 does not).
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ae.Status)
		return
	}
	// A struct, not a map, so that "message" comes before "code" as in upstream's bodies.
	writeJSON(w, ae.Status, struct {
		Message string `json:"message"`
		Code    string `json:"code,omitempty"`
	}{ae.Message, ae.Code})
}

// The two bare acknowledgements upstream answers with; which one an endpoint uses is upstream's
// choice, kept per endpoint.
var (
	statusTrue  = map[string]bool{"status": true}
	successTrue = map[string]bool{"success": true}
)

// writeJSON encodes like JS JSON.stringify does for our values: no HTML escaping, no trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		slog.ErrorContext(responseContext(w), "encode response", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, body)
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeJSONBytes answers with JSON encoded before, by encodeJSON.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	setHeaderValue(w.Header(), "Content-Type", jsonContentType)
	w.WriteHeader(status)
	if _, err := w.Write(body); err != nil {
		slog.DebugContext(responseContext(w), "write response", "err", err)
	}
}

// Header values set on every answer, shared by every response rather than allocated for each: a
// shared value is only ever replaced (Header.Set) or appended to (Header.Add copies a full
// slice), never written in place. setHeaderValue and addHeaderValue take canonical keys.
var (
	jsonContentType = []string{"application/json"}
	noStoreValue    = []string{"no-store"}
	noCacheValue    = []string{"no-cache"}
	varyOrigin      = []string{"Origin"}
)

func setHeaderValue(h http.Header, key string, shared []string) { h[key] = shared[:1:1] }

// headerValue is h.Get(key) for a key already canonical: Header.Get canonicalizes its key on
// every call, and the middleware and the session cookies read a few headers on every request.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func addHeaderValue(h http.Header, key string, shared []string) {
	if len(h[key]) == 0 {
		h[key] = shared[:1:1]
		return
	}
	h[key] = append(h[key], shared[0])
}

// redirect answers as upstream's ctx.redirect: 302, Location, an empty body.
func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusFound)
}

// jsTime marshals like JS Date.toJSON(): UTC with exactly three fractional digits, the only shape
// the client's date reviver turns back into a Date.
type jsTime time.Time

const jsTimeLayout = "2006-01-02T15:04:05.000Z"

// MarshalText rather than MarshalJSON: encoding/json re-validates whatever a MarshalJSON returns,
// a cost every session and user in every response paid twice.
func (t jsTime) MarshalText() ([]byte, error) {
	return time.Time(t).UTC().AppendFormat(nil, jsTimeLayout), nil
}

func (t *jsTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = jsTime(v)
	return nil
}

func (t jsTime) Time() time.Time { return time.Time(t) }

// ScanTimestamptz and TimestamptzValue let pgx read and write jsTime as timestamptz.
func (t *jsTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		return errors.New("timestamptz is NULL")
	}
	*t = jsTime(v.Time.UTC())
	return nil
}

func (t jsTime) TimestamptzValue() (pgtype.Timestamptz, error) {
	return pgtype.Timestamptz{Time: time.Time(t), Valid: true}, nil
}

// bodyForms marks the endpoints where upstream also accepts form posts.
type bodyForms bool

const (
	jsonOnly    bodyForms = false
	formAllowed bodyForms = true
)

// decode reads the request body into dst, a pointer to a struct, checking it as upstream's schema
// validation does: a JSON object (or a form post where allowed) with no unknown keys, every field
// of its declared type, required fields (tag `required:"true"`) present and non-null. An empty body
// is an absent body: fine unless a field is required. Nothing is half-decoded into dst on failure.
//
// The steps run in upstream's order, so that a request wrong in several ways gets upstream's
// answer: body parsing (415, 400 BAD_REQUEST), the callback-like URL fields against the trusted
// origins (403; a non-string is 400), then schema validation (400 VALIDATION_ERROR).
func (s *server) decode(r *http.Request, dst any, forms bodyForms) error {
	body, obj, err := s.parseAndCheckURLs(r, forms)
	if err != nil {
		return err
	}
	fields := fieldsOf(reflect.TypeOf(dst).Elem())
	switch kind := jsonKind(body); kind {
	case "object":
	case "undefined":
		for _, f := range fields.list {
			if f.required {
				return validationError("[body] Invalid input: expected object, received undefined")
			}
		}
		return nil
	default:
		return validationError("[body] Invalid input: expected object, received " + kind)
	}
	// Postgres text cannot hold NUL; refuse it here rather than fail at the INSERT.
	if bytes.Contains(body, []byte(`\u0000`)) && containsNUL(obj) {
		return validationError("[body] Invalid input: NUL characters are not allowed")
	}
	out, issues, dropped := decodeFields(obj, fields, reflect.TypeOf(dst).Elem(), "body", !s.cfg.StrictBody)
	if len(issues) > 0 {
		return validationError(issues...)
	}
	if len(dropped) > 0 {
		// Names only: a value may be a password or a token.
		slog.DebugContext(r.Context(), "body keys dropped", "route", logRoute(r), "keys", dropped)
	}
	reflect.ValueOf(dst).Elem().Set(out)
	return nil
}

// decodeFields decodes obj into a new value of type t with decode's rules (typed fields, required
// ones present), naming each issue by its path ("body", "body.data"). A key t does not take is
// kept in t's unknown:"keep" field, else dropped and named in dropped when drop is set (upstream's
// behaviour, deviation unknown-body-keys without STRICT_BODY), else an issue.
func decodeFields(obj map[string]json.RawMessage, fields *bodyFields, t reflect.Type, path string, drop bool) (out reflect.Value, issues, dropped []string) {
	out = reflect.New(t).Elem()
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := fields.byName[k]
		if !ok && fields.unknown >= 0 {
			kept := out.Field(fields.unknown)
			if kept.IsNil() {
				kept.Set(reflect.ValueOf(map[string]json.RawMessage{}))
			}
			kept.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(obj[k]))
			continue
		}
		if !ok && drop {
			dropped = append(dropped, k)
			continue
		}
		if !ok {
			issues = append(issues, unrecognizedKey(path, k))
			continue
		}
		v := obj[k]
		if string(v) == "null" && !f.nullable {
			issues = append(issues, fmt.Sprintf("[%s.%s] Invalid input: expected %s, received null", path, k, f.kind))
			continue
		}
		if err := json.Unmarshal(v, out.Field(f.index).Addr().Interface()); err != nil {
			issues = append(issues, fmt.Sprintf("[%s.%s] Invalid input: expected %s, received %s", path, k, f.kind, jsonKind(v)))
		} else if issue := fieldTooBig(path, k, v); issue != "" {
			issues = append(issues, issue)
		}
	}
	for _, f := range fields.list {
		if _, ok := obj[f.name]; f.required && !ok {
			issues = append(issues, fmt.Sprintf("[%s.%s] Invalid input: expected %s, received undefined", path, f.name, f.kind))
		}
	}
	return out, issues, dropped
}

func unrecognizedKey(path, key string) string {
	return fmt.Sprintf("[%s] Unrecognized key: %q", path, key)
}

// parseAndCheckURLs runs decode's first two steps: it parses the body and checks the callback-like
// URL fields (and query.callbackURL) against the trusted origins. obj is the body when it is a
// JSON object, else nil.
func (s *server) parseAndCheckURLs(r *http.Request, forms bodyForms) (json.RawMessage, map[string]json.RawMessage, error) {
	body, err := parseBody(r, forms)
	if err != nil {
		return nil, nil, err
	}
	var obj map[string]json.RawMessage
	if jsonKind(body) == "object" {
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, nil, errBadJSON
		}
		if obj == nil {
			obj = map[string]json.RawMessage{}
		}
	}
	if err := s.checkURLFields(r, obj); err != nil {
		return nil, nil, err
	}
	return body, obj, nil
}

// parseBody is upstream's body parser: it reads the body (413 past the limit), refuses a media
// type the endpoint does not accept (415) and malformed JSON (400 BAD_REQUEST), and returns the
// body as one JSON value, or nil when there is none. A form post becomes the JSON object upstream
// sees, every value a string. The body stays readable for decode, which parses it again.
func parseBody(r *http.Request, forms bodyForms) (json.RawMessage, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge
		}
		return nil, errBadJSON
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/json":
		return parseJSON(raw)
	case mt == "application/x-www-form-urlencoded" && forms == formAllowed:
		return parseForm(raw)
	default:
		return nil, unsupportedMediaType(ct, forms)
	}
}

func unsupportedMediaType(ct string, forms bodyForms) *apiError {
	allowed := "application/json"
	if forms == formAllowed {
		allowed = "application/x-www-form-urlencoded, application/json"
	}
	if ct == "" {
		return apiErr(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type is required. Allowed types: "+allowed)
	}
	return apiErr(415, "UNSUPPORTED_MEDIA_TYPE", fmt.Sprintf("Content-Type %q is not allowed. Allowed types: %s", ct, allowed))
}

// parseJSON accepts exactly one JSON value with nothing after it.
func parseJSON(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return nil, errBadJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errBadJSON
	}
	return v, nil
}

// parseForm turns a form post into the JSON object upstream sees: every value a string, the
// first one where a key repeats.
func parseForm(raw []byte) (json.RawMessage, error) {
	values, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, errBadJSON
	}
	obj := make(map[string]string, len(values))
	for k, vs := range values {
		obj[k] = vs[0]
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, errBadJSON
	}
	return b, nil
}

// containsNUL reports a NUL character in any key or string value of obj, at any depth.
func containsNUL(obj map[string]json.RawMessage) bool {
	var v any
	b, _ := json.Marshal(obj)
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case string:
			return strings.ContainsRune(t, 0)
		case []any:
			for _, e := range t {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range t {
				if strings.ContainsRune(k, 0) || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// jsonKind names a JSON value's type the way zod's messages do.
func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "undefined"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

type bodyField struct {
	name     string
	index    int
	kind     string
	required bool
	nullable bool
}

type bodyFields struct {
	list   []bodyField
	byName map[string]bodyField
	// unknown is the index of a map[string]json.RawMessage field tagged unknown:"keep", which
	// takes the keys no field names instead of refusing them (-1: none): a strict union answers
	// them its own way.
	unknown int
}

var fieldCache sync.Map // reflect.Type -> *bodyFields

// fieldsOf describes a body struct once per type, so decoding does no repeated reflection work.
func fieldsOf(t reflect.Type) *bodyFields {
	if v, ok := fieldCache.Load(t); ok {
		return v.(*bodyFields)
	}
	fs := &bodyFields{byName: map[string]bodyField{}, unknown: -1}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Tag.Get("unknown") == "keep" {
			fs.unknown = i
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		kind := kindName(ft)
		if k, ok := reflect.Zero(ft).Interface().(interface{ jsonKind() string }); ok {
			kind = k.jsonKind()
		}
		f := bodyField{name: name, index: i, kind: kind, required: sf.Tag.Get("required") == "true", nullable: sf.Tag.Get("nullable") == "true"}
		fs.list = append(fs.list, f)
		fs.byName[name] = f
	}
	fieldCache.Store(t, fs)
	return fs
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64, reflect.Float32, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Interface:
		return "any"
	default:
		return "object"
	}
}

// optional records whether a body key was sent at all, for fields where null ("clear it") and
// absent ("leave it") mean different things.
type optional[T any] struct {
	Set   bool
	Value *T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}

func (optional[T]) jsonKind() string { return kindName(reflect.TypeFor[T]()) }

// upstreamQuery is the query as upstream's router reads it: WHATWG URL decoding turns escaped
// (or raw) bytes that are not UTF-8 into U+FFFD, where Go's keeps them, and Postgres refuses them
// as a parameter: a 500 on any route that looks a query value up. The common query, valid
// UTF-8, is returned as it came.
func upstreamQuery(raw string) string {
	if !strings.Contains(raw, "%") && utf8.ValidString(raw) {
		return raw
	}
	q, _ := url.ParseQuery(raw) // malformed pairs are dropped, as r.URL.Query() drops them
	valid := true
	for k, vs := range q {
		valid = valid && utf8.ValidString(k) && !slices.ContainsFunc(vs, func(v string) bool { return !utf8.ValidString(v) })
	}
	if valid {
		return raw
	}
	out := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			out.Add(strings.ToValidUTF8(k, "\uFFFD"), strings.ToValidUTF8(v, "\uFFFD"))
		}
	}
	return out.Encode()
}

// queryString reads one query parameter as upstream's query schemas do: a missing required key
// and a repeated key (an array to them) are 400 VALIDATION_ERROR; a missing optional key is "".
func queryString(r *http.Request, name string, required bool) (string, error) {
	values, ok := r.URL.Query()[name]
	switch {
	case !ok && required:
		return "", validationError(fmt.Sprintf("[query.%s] Invalid input: expected string, received undefined", name))
	case len(values) > 1:
		return "", validationError(fmt.Sprintf("[query.%s] Invalid input: expected string, received array", name))
	case !ok:
		return "", nil
	}
	return values[0], nil
}

// linkQuery reads the query of a mailed link: token (required) and callbackURL (optional, and
// trusted: relative or a trusted origin).
func (s *server) linkQuery(r *http.Request) (token, callbackURL string, err error) {
	if token, err = queryString(r, "token", true); err != nil {
		return "", "", err
	}
	if callbackURL, err = queryString(r, "callbackURL", false); err != nil {
		return "", "", err
	}
	return token, callbackURL, s.checkQueryURL(r, callbackURL)
}

// checkQueryURL is upstream's originCheck on a redirect target taken from the query of a GET
// endpoint (an email link): relative paths or trusted origins only, else 403 INVALID_CALLBACK_URL,
// whichever parameter it came from, as upstream answers.
func (s *server) checkQueryURL(r *http.Request, u string) error {
	if u != "" && !s.isTrustedURL(r, u, true) {
		return urlFieldErrors["callbackURL"]
	}
	return nil
}

// queryBool reads a boolean query flag as z.coerce.boolean() does: any non-empty value is true.
func queryBool(r *http.Request, name string) bool {
	if r.URL.RawQuery == "" {
		return false // most requests: no need to parse (and allocate) an empty query
	}
	return r.URL.Query().Get(name) != ""
}
