package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Additional fields (upstream user.additionalFields and session.additionalFields;
// packages/better-auth/src/db/schema.ts parseInputData, packages/core/src/db/get-tables.ts, and
// the Postgres types of packages/better-auth/src/db/get-migration.ts getType). Each configured
// field is a column of the user or session table, read into every row as one trailing JSON value
// (fieldValues) that the row's JSON answer carries after its fixed keys, as upstream's adapter
// puts additional fields after the core and plugin fields.

// fieldSpec is one additional field: the key clients send and read, the column it lives in.
type fieldSpec struct {
	Key      string
	Column   string // fieldName, or Key
	Type     string // string, number, boolean, date, string[], number[]
	Required bool
	Default  json.RawMessage // nil: none
	Input    bool            // false: server-only (upstream input: false)
	Returned bool            // false: never answered (upstream returned: false)
	Unique   bool
	BigInt   bool // a number stored as bigint rather than integer (upstream bigint: true)
	Index    bool // a non-unique index on the column (upstream index: true)
	// normalize, when set, rewrites a string before it is stored (the username plugin's fields).
	normalize func(string) string
}

// additionalFields keeps the configured order, which is the order they are answered in.
type additionalFields []fieldSpec

// fieldAttributes are the serialisable attributes of upstream's DBFieldAttribute.
type fieldAttributes struct {
	Type         string          `json:"type"`
	Required     *bool           `json:"required"`
	DefaultValue json.RawMessage `json:"defaultValue"`
	Input        *bool           `json:"input"`
	Returned     *bool           `json:"returned"`
	Unique       bool            `json:"unique"`
	FieldName    string          `json:"fieldName"`
	BigInt       bool            `json:"bigint"`
	Sortable     bool            `json:"sortable"`
	Index        bool            `json:"index"`
}

// fieldsConfig is what the config file's user.additionalFields and session.additionalFields hold.
type fieldsConfig struct {
	User    additionalFields
	Session additionalFields
}

// identifierPattern is what a field key and column name may be: Postgres quotes every column we
// name, but a name is still checked, so that no configuration can reach the SQL as anything but
// an identifier, and capped at Postgres's 63 bytes.
var identifierPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

var fieldTypes = map[string]bool{"string": true, "number": true, "boolean": true, "date": true, "string[]": true, "number[]": true}

// Bounds on an additional field's value: upstream has none, but a column is not a file store.
// A unique or indexed field is bounded further, as limits.go bounds an organization's slug:
// Postgres's btree refuses an entry past 2704 bytes, a 500 at the INSERT. A string's characters
// count up to 4 bytes each; an array (jsonb) up to 16 bytes an item besides the item's JSON.
const (
	maxFieldChars        = 10000
	maxFieldItems        = 1000
	maxIndexedFieldChars = 512
	maxIndexedArrayBytes = 2048
)

// UnmarshalJSON reads {"key": {attributes}, ...} keeping the keys' order.
func (f *additionalFields) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("want an object of fields")
	}
	var out additionalFields
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return subKeyError{key, err.Error()}
		}
		spec, err := parseFieldSpec(key, raw)
		if err != nil {
			return subKeyError{key, err.Error()}
		}
		out = append(out, spec)
	}
	*f = out
	return nil
}

func parseFieldSpec(key string, raw json.RawMessage) (fieldSpec, error) {
	var a fieldAttributes
	if err := decodeFileObject(raw, &a); err != nil {
		return fieldSpec{}, err
	}
	spec := fieldSpec{Key: key, Column: key, Type: a.Type, Required: a.Required == nil || *a.Required,
		Input: a.Input == nil || *a.Input, Returned: a.Returned == nil || *a.Returned, Unique: a.Unique, BigInt: a.BigInt, Index: a.Index}
	if a.FieldName != "" {
		spec.Column = a.FieldName
	}
	if !fieldTypes[a.Type] {
		return fieldSpec{}, fmt.Errorf("type %q: want string, number, boolean, date, string[] or number[]", a.Type)
	}
	if !identifierPattern.MatchString(key) {
		return fieldSpec{}, errors.New("a field name is letters, digits and _, not starting with a digit, at most 63")
	}
	if !identifierPattern.MatchString(spec.Column) {
		return fieldSpec{}, fmt.Errorf("fieldName %q: letters, digits and _, not starting with a digit, at most 63", spec.Column)
	}
	if len(a.DefaultValue) > 0 && string(a.DefaultValue) != "null" {
		if _, err := spec.value(a.DefaultValue, "defaultValue"); err != nil {
			return fieldSpec{}, fmt.Errorf("defaultValue: %s", err.(*apiError).Message)
		}
		spec.Default = a.DefaultValue
	}
	return spec, nil
}

// registerFieldKeys registers the config file's user.additionalFields and
// session.additionalFields, which have no flag or variable: a field's definition is a file's job.
func registerFieldKeys(s *settings) {
	s.fileSection("user.additionalFields", func(path string, raw json.RawMessage, c *config) error {
		return decodeFieldsSection(path, raw, "user", &c.Fields.User)
	})
	s.fileSection("session.additionalFields", func(path string, raw json.RawMessage, c *config) error {
		return decodeFieldsSection(path, raw, "session", &c.Fields.Session)
	})
}

func decodeFieldsSection(path string, raw json.RawMessage, table string, dst *additionalFields) error {
	var f additionalFields
	err := json.Unmarshal(raw, &f)
	if err == nil {
		err = f.check(table)
	}
	if sub := (subKeyError{}); errors.As(err, &sub) {
		return keyError(path+"."+sub.key, "%s", sub.msg)
	}
	if err != nil {
		return keyError(path, "%v", err)
	}
	*dst = f
	return nil
}

// reservedColumns are the columns of a table that upstream or a plugin we serve owns.
var reservedColumns = map[string][]string{
	"user": {"id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt", "twoFactorEnabled",
		"role", "banned", "banReason", "banExpires", "username", "displayUsername"},
	"session": {"id", "expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId",
		"activeOrganizationId", "activeTeamId", "impersonatedBy"},
}

// check refuses a field that would shadow another field or column of table.
func (f additionalFields) check(table string) error {
	seen := map[string]bool{}
	for _, c := range reservedColumns[table] {
		seen[strings.ToLower(c)] = true
	}
	keys := map[string]bool{}
	for _, fs := range f {
		if seen[strings.ToLower(fs.Column)] {
			return subKeyError{fs.Key, fmt.Sprintf("column %q is taken by another field of %s", fs.Column, table)}
		}
		if keys[fs.Key] || (fs.Key != fs.Column && seen[strings.ToLower(fs.Key)]) {
			return subKeyError{fs.Key, "the name is taken by another field of " + table}
		}
		if table == "session" && fs.Required && fs.Default == nil {
			// Sessions are created at sign-in from no input: such a field fails every sign-in
			// (upstream's insert fails on its NOT NULL column).
			return subKeyError{fs.Key, "a required session field needs a defaultValue: sessions are created without input"}
		}
		if table == "session" && fs.Unique && fs.Default != nil {
			// Every session would start with it: the second sign-in fails on the unique index.
			return subKeyError{fs.Key, "a unique session field cannot have a defaultValue: every session would start with it"}
		}
		seen[strings.ToLower(fs.Column)] = true
		keys[fs.Key] = true
	}
	return nil
}

// columnType is upstream's Postgres type for a field (get-migration.ts getType).
func (fs fieldSpec) columnType() string {
	switch fs.Type {
	case "number":
		if fs.BigInt {
			return "bigint"
		}
		return "integer"
	case "boolean":
		return "boolean"
	case "date":
		return "timestamptz"
	case "string[]", "number[]":
		return "jsonb"
	default:
		return "text"
	}
}

// staticDefault is the column DEFAULT upstream's migration gives a field it adds to an existing
// table (get-migration.ts hasStaticColumnDefault): a string, number or boolean defaultValue,
// unless the field is unique and not required; "" for none.
func (fs fieldSpec) staticDefault() string {
	if fs.Default == nil || (fs.Unique && !fs.Required) {
		return ""
	}
	switch fs.Type {
	case "string":
		var v string
		if json.Unmarshal(fs.Default, &v) != nil {
			return ""
		}
		return quoteLiteral(v)
	case "number", "boolean":
		return string(fs.Default) // checked against its type when the configuration was read
	}
	return ""
}

// addColumnSQL adds fs's column to table, which holds rows rows (counted up to 2), as upstream's
// migration adds a column to an existing table: NOT NULL when required, with its static
// default. Where upstream's migration would fail, the column is added nullable instead and a
// warning says so, so that start-up never fails on a database with rows: a required field
// without a static default on a table with rows (upstream refuses: existing rows have no value;
// required is then enforced where rows are written, as parseInput does), and a unique field with
// a default on a table of two rows or more (every row would hold the default, and the unique
// index could not be built), which gets no default. (A table the Node server creates with the
// field has the NOT NULL but no DEFAULT; nothing answers differently, as both servers write each
// default themselves.)
func (fs fieldSpec) addColumnSQL(table string, rows int) string {
	def, notNull := fs.staticDefault(), fs.Required
	switch {
	case notNull && def == "" && rows > 0:
		notNull = false
		slog.Warn("required field added nullable: the table has rows and the field no default to give them; backfill it, then set NOT NULL",
			"table", table, "column", fs.Column)
	case fs.Unique && def != "" && rows > 1:
		def, notNull = "", false
		slog.Warn("unique field added nullable and without its default: the table has rows, which would all take the default; backfill distinct values, then set NOT NULL",
			"table", table, "column", fs.Column)
	}
	stmt := fmt.Sprintf(`alter table %q add column if not exists %q %s`, table, fs.Column, fs.columnType())
	if notNull {
		stmt += " not null"
	}
	if def != "" {
		stmt += " default " + def
	}
	return stmt
}

// indexSQL is the index a unique or indexed field's column gets (upstream's "<table>_<column>_uidx"
// or "_idx"), "" for none. A Node-created table has the unique constraint "<table>_<column>_key"
// (created with the column) or the index (added later); either one is enough.
func (fs fieldSpec) indexSQL(table string) string {
	switch {
	case fs.Unique:
		return fmt.Sprintf(`do $$ begin
  if not exists (select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
      where i.indrelid = %s::regclass and i.indisunique and i.indnatts = 1 and a.attname = %s) then
    create unique index %q on %q (%q);
  end if;
end $$`, quoteLiteral(`"`+table+`"`), quoteLiteral(fs.Column), indexName(table, fs.Column, "uidx"), table, fs.Column)
	case fs.Index:
		return fmt.Sprintf(`create index if not exists %q on %q (%q)`, indexName(table, fs.Column, "idx"), table, fs.Column)
	}
	return ""
}

// fieldsDDL is what adds the fields' missing columns to table (and their indexes), read under
// the schema lock. A column that exists is left as it is, as upstream's migration leaves it
// (with a warning when it is nullable and the field required).
func fieldsDDL(ctx context.Context, tx pgx.Tx, table string, fields additionalFields) ([]string, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	nullable := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT attname, NOT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, `"`+table+`"`)
	if err != nil {
		return nil, fmt.Errorf("read %s columns: %w", table, err)
	}
	for rows.Next() {
		var name string
		var null bool
		if err := rows.Scan(&name, &null); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read %s columns: %w", table, err)
		}
		nullable[name] = null
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s columns: %w", table, err)
	}
	var count int
	if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM %q LIMIT 2) r`, table)).Scan(&count); err != nil {
		return nil, fmt.Errorf("count %s rows: %w", table, err)
	}
	var ddl []string
	for _, fs := range fields {
		null, exists := nullable[fs.Column]
		switch {
		case !exists:
			ddl = append(ddl, fs.addColumnSQL(table, count))
		case fs.Required && null:
			slog.Warn("required field's column is nullable, as an earlier start or the Node server left it; backfill it, then set NOT NULL",
				"table", table, "column", fs.Column)
		}
		if idx := fs.indexSQL(table); idx != "" {
			ddl = append(ddl, idx)
		}
	}
	return ddl, nil
}

// indexName is upstream's generated name for a single-column index (getDatabaseFieldIndexName,
// kind "uidx" or "idx") for the names that fit in 63 bytes, which validated identifiers of the
// two tables always do but for the longest, cut short.
func indexName(table, column, kind string) string {
	name := table + "_" + column + "_" + kind
	if len(name) > 63 {
		name = name[:62-len(kind)] + "_" + kind
	}
	return name
}

// quoteLiteral quotes a validated identifier as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// applyFieldColumns adds the columns of the configured fields (and the username plugin's) under
// the schema lock, so replicas starting together do not race on the DDL.
func applyFieldColumns(ctx context.Context, db *pgxpool.Pool, cfg config) error {
	if len(cfg.userFields()) == 0 && len(cfg.Fields.Session) == 0 {
		return nil
	}
	return inTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7242115)`); err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		for _, t := range []struct {
			name   string
			fields additionalFields
		}{{"user", cfg.userFields()}, {"session", cfg.Fields.Session}} {
			ddl, err := fieldsDDL(ctx, tx, t.name, t.fields)
			if err != nil {
				return err
			}
			for _, stmt := range ddl {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("add field columns: %w", err)
				}
			}
		}
		return nil
	})
}

// userFields are the user table's dynamic fields in upstream's order: the plugins' (username),
// then user.additionalFields.
func (c config) userFields() additionalFields {
	return append(c.Username.fields(), c.Fields.User...)
}

// jsTimeSQL renders a timestamptz as JavaScript's Date.toISOString does.
const jsTimeSQL = `to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

// selectSQL is the trailing column of a row read: a JSON object of the returned fields, in order,
// or a null when there are none.
func (f additionalFields) selectSQL(alias string) string {
	var parts []string
	for _, fs := range f {
		if !fs.Returned {
			continue
		}
		col := alias + "." + fmt.Sprintf("%q", fs.Column)
		if fs.Type == "date" {
			col = fmt.Sprintf(jsTimeSQL, col)
		}
		parts = append(parts, quoteLiteral(fs.Key)+", "+col)
	}
	if len(parts) == 0 {
		return "NULL::json"
	}
	return "json_build_object(" + strings.Join(parts, ", ") + ")"
}

// fieldValues is a row's additional fields as JSON (an object, or empty for none).
type fieldValues []byte

// fieldWrite is a set of column values to write.
type fieldWrite struct {
	cols []string // quoted column names
	vals []any
}

func (w *fieldWrite) add(fs fieldSpec, v any) {
	w.cols = append(w.cols, fmt.Sprintf("%q", fs.Column))
	w.vals = append(w.vals, v)
}

// insertSQL is the column list and placeholders (from $first) that w adds to an INSERT.
func (w fieldWrite) insertSQL(first int) (cols, params string) {
	for i, c := range w.cols {
		cols += ", " + c
		params += fmt.Sprintf(", $%d", first+i)
	}
	return cols, params
}

// columnList is ", a."c1", a."c2"…" for the fields' columns (alias "" for bare names): what an
// INSERT … SELECT copies from the row it replaces.
func (f additionalFields) columnList(alias string) string {
	var b strings.Builder
	for _, fs := range f {
		b.WriteString(", ")
		if alias != "" {
			b.WriteString(alias + ".")
		}
		fmt.Fprintf(&b, "%q", fs.Column)
	}
	return b.String()
}

var (
	errFieldNotAllowed = func(key string) error {
		return apiErr(400, "FIELD_NOT_ALLOWED", key+" is not allowed to be set")
	}
	errMissingField = func(key string) error { return apiErr(400, "MISSING_FIELD", key+" is required") }
)

// parseInput takes the fields' values out of rest (the body's keys no route field took), as
// upstream's parseInputData does: on create, absent fields get their default or, when required,
// MISSING_FIELD; a server-only field sent with a truthy value is FIELD_NOT_ALLOWED (its default
// wins on create). Unlike upstream, each value is checked against its type here, rather than left
// to fail in Postgres (deviation additional-field-types).
func (f additionalFields) parseInput(rest map[string]json.RawMessage, create bool) (fieldWrite, error) {
	var w fieldWrite
	for _, fs := range f {
		raw, present := rest[fs.Key]
		delete(rest, fs.Key)
		if present && !fs.Input {
			if create && fs.Default != nil {
				present, raw = false, nil
			} else if truthy(raw) {
				return w, errFieldNotAllowed(fs.Key)
			} else {
				continue
			}
		}
		if !present {
			switch {
			case create && fs.Default != nil:
				raw = fs.Default
			case create && fs.Required:
				return w, errMissingField(fs.Key)
			default:
				continue
			}
		}
		v, err := fs.value(raw, "body."+fs.Key)
		if err != nil {
			return w, err
		}
		w.add(fs, v)
	}
	return w, nil
}

// adminInput takes the fields' values out of the admin plugin's create-user or update-user data.
// Upstream hands that data to its database adapter without parseUserInput
// (packages/better-auth/src/plugins/admin/routes.ts createUser, adminUpdateUser), so a
// server-only field is written like any other, and on create an absent field, or a null one
// that is required, takes its default (the adapter's withApplyDefault). A required field without
// a default that is missing at create is upstream's NOT NULL failure (a 500); here it is
// MISSING_FIELD, and every value is type-checked as at sign-up (deviation additional-field-types).
func (f additionalFields) adminInput(data map[string]json.RawMessage, create bool) (fieldWrite, error) {
	var w fieldWrite
	for _, fs := range f {
		raw, present := data[fs.Key]
		delete(data, fs.Key)
		if create && fs.Default != nil && (!present || (fs.Required && string(raw) == "null")) {
			raw, present = fs.Default, true
		}
		if !present {
			if create && fs.Required {
				return w, errMissingField(fs.Key)
			}
			continue
		}
		v, err := fs.value(raw, "body.data."+fs.Key)
		if err != nil {
			return w, err
		}
		w.add(fs, v)
	}
	return w, nil
}

// leftoverKeys handles the keys of an object at path (update-session's body, an admin route's
// data) that no field took, as decode does for every route: refused with STRICT_BODY, else
// dropped and named in a debug line (deviation unknown-body-keys).
func (s *server) leftoverKeys(r *http.Request, rest map[string]json.RawMessage, path string) error {
	if len(rest) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(rest))
	if !s.cfg.StrictBody {
		slog.DebugContext(r.Context(), "body keys dropped", "route", logRoute(r), "path", path, "keys", keys)
		return nil
	}
	issues := make([]string, len(keys))
	for i, k := range keys {
		issues[i] = unrecognizedKey(path, k)
	}
	return validationError(issues...)
}

// synthetic is the fields of a user that was not created, as upstream's buildSyntheticUserOutput
// makes them: each returned field's value as given (or its default), else null unless required.
func (f additionalFields) synthetic(w fieldWrite) fieldValues { return f.encode(w, true, true) }

// storedValues and hiddenValues are a session kept only in Redis: as upstream's createSession and
// updateSession store the session object there, it holds the fields that were given a value (a
// default, or by an update) and no others, not even as null; storedValues are those answered,
// hiddenValues those declared returned: false, which the stored value keeps but no answer shows.
func (f additionalFields) storedValues(w fieldWrite) fieldValues { return f.encode(w, true, false) }
func (f additionalFields) hiddenValues(w fieldWrite) fieldValues { return f.encode(w, false, false) }

// encode writes w's values of the fields whose returned attribute is returned as a JSON object;
// with fill, a field w has no value for is null unless it is required.
func (f additionalFields) encode(w fieldWrite, returned, fill bool) fieldValues {
	var b bytes.Buffer
	for _, fs := range f {
		i := slices.Index(w.cols, fmt.Sprintf("%q", fs.Column))
		if fs.Returned != returned || (i < 0 && (fs.Required || !fill)) {
			continue
		}
		var v any
		if i >= 0 {
			v = w.vals[i]
		}
		if t, ok := v.(time.Time); ok {
			v = jsTime(t)
		}
		enc, err := json.Marshal(v)
		if err != nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(fs.Key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(enc)
	}
	if b.Len() == 0 {
		return nil
	}
	b.WriteByte('}')
	return b.Bytes()
}

// updated is the fields of a session kept only in Redis after w is written to it: w's values
// over those in old, as Postgres would hold the row after an UPDATE; the returned ones as
// answered, and apart the ones declared returned: false, which the stored value keeps.
func (f additionalFields) updated(old session, w fieldWrite) (extra, hidden fieldValues, err error) {
	prev := map[string]json.RawMessage{}
	for _, part := range []fieldValues{old.Extra, old.Hidden} {
		if len(part) == 0 {
			continue
		}
		if err := json.Unmarshal(part, &prev); err != nil {
			return nil, nil, fmt.Errorf("decode fields: %w", err)
		}
	}
	var all fieldWrite
	for _, fs := range f {
		if i := slices.Index(w.cols, fmt.Sprintf("%q", fs.Column)); i >= 0 {
			all.add(fs, w.vals[i])
		} else if raw, ok := prev[fs.Key]; ok {
			all.add(fs, raw)
		}
	}
	return f.storedValues(all), f.hiddenValues(all), nil
}

// hide moves the values of the fields declared returned: false out of a session read from Redis
// (written by us or by the Node server, which stores the whole session object) into its Hidden
// part, which is stored again on a write but never answered (upstream parseSessionOutput).
func (f additionalFields) hide(sess *session) error {
	shown, hidden, err := f.splitHidden(sess.Extra)
	if err != nil {
		return err
	}
	sess.Extra, sess.Hidden = shown, hidden
	return nil
}

// splitHidden parts the values of extra, a row's additional fields read from Redis, into those
// answered and those of the fields declared returned: false.
func (f additionalFields) splitHidden(extra fieldValues) (shown, hidden fieldValues, err error) {
	if len(extra) == 0 || !f.anyHidden() {
		return extra, nil, nil
	}
	never := map[string]bool{}
	for _, fs := range f {
		if !fs.Returned {
			never[fs.Key] = true
		}
	}
	if shown, err = pickFields(extra, func(k []byte) bool { return !never[string(k)] }); err != nil {
		return nil, nil, err
	}
	if hidden, err = pickFields(extra, func(k []byte) bool { return never[string(k)] }); err != nil {
		return nil, nil, err
	}
	return shown, hidden, nil
}

// anyHidden reports whether a field is declared returned: false.
func (f additionalFields) anyHidden() bool {
	return slices.ContainsFunc(f, func(fs fieldSpec) bool { return !fs.Returned })
}

// defaults is what a row created without input gets: each field's defaultValue.
func (f additionalFields) defaults() fieldWrite {
	var w fieldWrite
	for _, fs := range f {
		if fs.Default != nil {
			v, _ := fs.value(fs.Default, "defaultValue") // checked when the configuration was read
			w.add(fs, v)
		}
	}
	return w
}

// truthy is JavaScript's truthiness of a JSON value.
func truthy(raw json.RawMessage) bool {
	switch s := string(bytes.TrimSpace(raw)); s {
	case "null", "false", "0", `""`, "-0":
		return false
	default:
		var n float64
		if json.Unmarshal(raw, &n) == nil && n == 0 {
			return false
		}
		return true
	}
}

// value checks raw against the field's type and returns what to store; path names it in errors.
func (fs fieldSpec) value(raw json.RawMessage, path string) (any, error) {
	if string(raw) == "null" {
		if fs.Required {
			return nil, validationError(fmt.Sprintf("[%s] Invalid input: expected %s, received null", path, fs.Type))
		}
		return nil, nil
	}
	wrong := func() error {
		return validationError(fmt.Sprintf("[%s] Invalid input: expected %s, received %s", path, fs.Type, jsonKind(raw)))
	}
	switch fs.Type {
	case "string":
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, wrong()
		}
		if limit := fs.maxChars(); utf8.RuneCountInString(s) > limit {
			return nil, validationError(fmt.Sprintf("[%s] Too big: expected string to have <=%d characters", path, limit))
		}
		if fs.normalize != nil {
			s = fs.normalize(s)
		}
		return s, nil
	case "number":
		return fs.number(raw, path, wrong)
	case "boolean":
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, wrong()
		}
		return b, nil
	case "date":
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, wrong()
		}
		t, ok := parseJSDate(s)
		if !ok {
			return nil, validationError(fmt.Sprintf("[%s] Invalid input: expected date, received Invalid Date", path))
		}
		if y := t.Year(); y < 1 || y > 9999 {
			// Postgres keeps year 0 as 1 BC, which jsTimeSQL answers as year 1, and a year past
			// 9999 as five digits toISOString does not write: refused rather than answered changed.
			return nil, validationError(fmt.Sprintf("[%s] Invalid input: expected date in the years 0001 to 9999 (UTC)", path))
		}
		return t, nil
	default:
		return fs.array(raw, path, wrong)
	}
}

// number accepts an integer in the column's range: integer holds 32 bits, bigint what a
// JavaScript number holds exactly.
func (fs fieldSpec) number(raw json.RawMessage, path string, wrong func() error) (any, error) {
	var n float64
	if json.Unmarshal(raw, &n) != nil {
		return nil, wrong()
	}
	limit := float64(math.MaxInt32)
	if fs.BigInt {
		limit = 1<<53 - 1
	}
	if n != math.Trunc(n) {
		return nil, validationError(fmt.Sprintf("[%s] Invalid input: expected int, received number", path))
	}
	if n > limit || n < -limit-1 {
		return nil, validationError(fmt.Sprintf("[%s] Too big: expected number to be within %.0f", path, limit))
	}
	return int64(n), nil
}

func (fs fieldSpec) array(raw json.RawMessage, path string, wrong func() error) (any, error) {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, wrong()
	}
	if len(items) > maxFieldItems {
		return nil, validationError(fmt.Sprintf("[%s] Too big: expected array to have <=%d items", path, maxFieldItems))
	}
	elem := fieldSpec{Type: strings.TrimSuffix(fs.Type, "[]"), Required: true}
	out := make([]any, len(items))
	size := 0
	for i, item := range items {
		var v any
		var err error
		if elem.Type == "number" {
			var n float64
			if json.Unmarshal(item, &n) != nil {
				err = validationError(fmt.Sprintf("[%s.%d] Invalid input: expected number, received %s", path, i, jsonKind(item)))
			}
			v = n
		} else {
			v, err = elem.value(item, fmt.Sprintf("%s.%d", path, i))
		}
		if err != nil {
			return nil, err
		}
		out[i] = v
		size += 16 + len(item)
	}
	if fs.indexed() && size > maxIndexedArrayBytes {
		return nil, validationError(fmt.Sprintf("[%s] Too big: a unique or indexed array holds at most %d bytes", path, maxIndexedArrayBytes))
	}
	return out, nil
}

// indexed reports whether the field's column has an index (indexSQL), which bounds its values.
func (fs fieldSpec) indexed() bool { return fs.Unique || fs.Index }

// maxChars is the longest string the field takes.
func (fs fieldSpec) maxChars() int {
	if fs.indexed() {
		return maxIndexedFieldChars
	}
	return maxFieldChars
}

// parseJSDate reads the date strings a client sends (Date.toISOString, or a bare date), to the
// millisecond JavaScript keeps.
func parseJSDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999Z07:00", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), true
		}
	}
	return time.Time{}, false
}

// spliceFields appends the additional fields' object to a row's JSON object.
func spliceFields(row []byte, extra fieldValues) []byte {
	if len(extra) < 3 || extra[0] != '{' { // null, {} or nothing
		return row
	}
	out := make([]byte, 0, len(row)+len(extra))
	out = append(out, row[:len(row)-1]...)
	out = append(out, ',')
	return append(out, extra[1:]...)
}

// splitFields is spliceFields backwards, for a row read from a cookie cache: the keys of obj that
// known does not name, in order, as a JSON object.
func splitFields(obj []byte, known map[string]bool) (fieldValues, error) {
	return pickFields(obj, func(k []byte) bool { return !known[string(k)] })
}

// pickFields is the keys of the JSON object obj that keep accepts, in order, as a JSON object
// (nil for none). obj must be valid JSON: it is a value json.Unmarshal has checked (a method
// UnmarshalJSON is only given checked input) or one we encoded. It scans the bytes once without a
// decoder, since it runs on every session read from Redis.
func pickFields(obj []byte, keep func(key []byte) bool) (fieldValues, error) {
	var out []byte
	err := objectMembers(obj, func(key, quotedKey, value []byte) {
		if !keep(key) {
			return
		}
		if out == nil {
			out = append(out, '{')
		} else {
			out = append(out, ',')
		}
		out = append(append(append(out, quotedKey...), ':'), value...)
	})
	if err != nil || out == nil {
		return nil, err
	}
	return append(out, '}'), nil
}

// objectMembers calls fn with each member of the valid JSON object obj: its key unquoted, its key
// as written and its value as written (without the whitespace around it). The slices are obj's.
func objectMembers(obj []byte, fn func(key, quotedKey, value []byte)) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return errors.New("not a JSON object")
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		keyEnd := skipString(obj, i)
		quoted := obj[i:keyEnd]
		key := quoted[1 : len(quoted)-1]
		if bytes.IndexByte(quoted, '\\') >= 0 {
			var k string
			if err := json.Unmarshal(quoted, &k); err != nil {
				return err
			}
			key = []byte(k)
		}
		i = skipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return errors.New("malformed JSON object")
		}
		start := skipSpace(obj, i+1)
		end := skipValue(obj, start)
		fn(key, quoted, obj[start:end])
		i = skipSpace(obj, end)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	if i >= len(obj) || obj[i] != '}' {
		return errors.New("malformed JSON object")
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString answers the index just past the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue answers the index just past the value that starts at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = skipString(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // the end of the enclosing object or array
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// jsonFieldNames are the JSON names of a struct type's fields.
func jsonFieldNames(t reflect.Type) map[string]bool {
	m := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			m[name] = true
		}
	}
	return m
}
