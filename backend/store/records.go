package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/pgsafe/pgsafe/backend/seal"
)

// recordVersion is the layout version of every table's sealed record, bound
// into its associated data. A migration that changes a table's record layout
// re-seals the rows and bumps it for that table.
const recordVersion = 1

// sealedRecord is the plaintext of one sealed blob: the row's config as JSON
// (with secrets as {"set": …}) and the secrets' values by field path.
type sealedRecord struct {
	Config  json.RawMessage   `json:"c"`
	Secrets map[string]string `json:"s,omitempty"`
}

// sealRow seals v (a config struct, or any value without Secrets) as the one
// record of row in table. Each call draws a fresh nonce.
func (s *Store) sealRow(table, row string, v any) ([]byte, error) {
	rec := sealedRecord{Secrets: map[string]string{}}
	walkSecrets(reflect.ValueOf(v), "", func(path string, sec *Secret) {
		if sec.HasValue() {
			rec.Secrets[path] = sec.Reveal()
		}
	})
	var err error
	if rec.Config, err = json.Marshal(v); err != nil {
		return nil, fmt.Errorf("encode %s row %s: %w", table, row, err)
	}
	pt, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode %s row %s: %w", table, row, err)
	}
	defer clear(pt)
	return s.sealer.Seal(seal.AD{Table: table, Row: row, SchemaVersion: recordVersion}, pt)
}

// openRow opens row's sealed record into v (a pointer). With secrets false,
// stored secrets come back withheld (set, no value).
func (s *Store) openRow(table, row string, blob []byte, v any, secrets bool) error {
	pt, err := s.openBlob(table, row, blob)
	if err != nil {
		return err
	}
	defer clear(pt)
	var rec sealedRecord
	if err := json.Unmarshal(pt, &rec); err != nil {
		return fmt.Errorf("settings database %s: %s row %s: decode: %w", s.path, table, row, err)
	}
	if err := json.Unmarshal(rec.Config, v); err != nil {
		return fmt.Errorf("settings database %s: %s row %s: decode: %w", s.path, table, row, err)
	}
	walkSecrets(reflect.ValueOf(v), "", func(path string, sec *Secret) {
		if val, ok := rec.Secrets[path]; ok && secrets {
			*sec = NewSecret(val)
		} else {
			*sec = sec.withheld()
		}
	})
	return nil
}

// openBlob opens row's sealed blob: its plaintext, or an error naming the
// row.
func (s *Store) openBlob(table, row string, blob []byte) ([]byte, error) {
	pt, err := s.sealer.Open(seal.AD{Table: table, Row: row, SchemaVersion: recordVersion}, blob)
	if errors.Is(err, seal.ErrOpen) {
		return nil, fmt.Errorf("settings database %s: %s row %s: %w (was the file edited or rows swapped?)", s.path, table, row, err)
	}
	if err != nil {
		return nil, fmt.Errorf("settings database %s: %s row %s: %w", s.path, table, row, err)
	}
	return pt, nil
}

var secretType = reflect.TypeFor[Secret]()

// walkSecrets calls fn for every Secret reachable in v through struct fields,
// non-nil pointers to structs and maps of Secrets, with a dotted path of JSON
// field names ("password", "ssh.password", "secrets.token"). Fields of
// embedded structs have no prefix. fn may change the Secret only when v is
// addressable (a pointer was passed).
func walkSecrets(v reflect.Value, path string, fn func(path string, s *Secret)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkSecrets(v.Elem(), path, fn)
		}
	case reflect.Struct:
		if v.Type() == secretType {
			if v.CanAddr() {
				fn(path, v.Addr().Interface().(*Secret))
			} else {
				s := v.Interface().(Secret)
				fn(path, &s)
			}
			return
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, skip := jsonName(f)
			if skip {
				continue
			}
			p := join(path, name)
			if f.Anonymous {
				p = path
			}
			walkSecrets(v.Field(i), p, fn)
		}
	case reflect.Map:
		if v.Type().Elem() != secretType || v.Type().Key().Kind() != reflect.String {
			return
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			orig := v.MapIndex(k).Interface().(Secret)
			sec := orig
			fn(join(path, k.String()), &sec)
			if sec != orig {
				v.SetMapIndex(k, reflect.ValueOf(sec))
			}
		}
	}
}

func jsonName(f reflect.StructField) (name string, skip bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", true
	}
	name, _, _ = strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, false
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// mergeSecrets applies update semantics to upd (a pointer) given the stored
// config old: a Secret without a value keeps old's value at the same path,
// RemoveSecret() empties it, a new value stays.
func mergeSecrets(old, upd any) {
	stored := map[string]Secret{}
	walkSecrets(reflect.ValueOf(old), "", func(path string, s *Secret) { stored[path] = *s })
	walkSecrets(reflect.ValueOf(upd), "", func(path string, s *Secret) {
		switch {
		case s.remove:
			*s = Secret{}
		case !s.HasValue():
			*s = stored[path]
		}
	})
}

// withholdSecrets replaces every secret in v (a pointer) by its set/not-set view.
func withholdSecrets(v any) {
	walkSecrets(reflect.ValueOf(v), "", func(_ string, s *Secret) { *s = s.withheld() })
}

// Changes names the fields an update changed, as dotted JSON field names
// ("host", "password", "ssh.host"), never their values. A secret is listed
// when its value was replaced or removed.
type Changes []string

func (c Changes) String() string { return strings.Join(c, ", ") }

// diffFields compares two values of the same config type field by field.
var timeType = reflect.TypeOf(time.Time{})

func diffFields(old, upd any) Changes {
	var out Changes
	diffValue(reflect.ValueOf(old), reflect.ValueOf(upd), "", &out)
	return out
}

func diffValue(a, b reflect.Value, path string, out *Changes) {
	if a.Type() == secretType {
		sa, sb := a.Interface().(Secret), b.Interface().(Secret)
		if sa.Reveal() != sb.Reveal() || sa.set != sb.set {
			*out = append(*out, path)
		}
		return
	}
	if a.Type() == timeType { // its fields are unexported: compared as instants
		if !a.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
			*out = append(*out, path)
		}
		return
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				*out = append(*out, path)
			}
			return
		}
		diffValue(a.Elem(), b.Elem(), path, out)
	case reflect.Struct:
		t := a.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, skip := jsonName(f)
			if skip || !f.IsExported() {
				continue
			}
			p := join(path, name)
			if f.Anonymous {
				p = path
			}
			diffValue(a.Field(i), b.Field(i), p, out)
		}
	case reflect.Map:
		keys := map[string]bool{}
		for _, k := range a.MapKeys() {
			keys[k.String()] = true
		}
		for _, k := range b.MapKeys() {
			keys[k.String()] = true
		}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range keys {
				if !yield(k) {
					return
				}
			}
		}) {
			kv := reflect.ValueOf(k).Convert(a.Type().Key())
			va, vb := a.MapIndex(kv), b.MapIndex(kv)
			switch {
			case !va.IsValid() || !vb.IsValid():
				*out = append(*out, join(path, k))
			default:
				diffValue(va, vb, join(path, k), out)
			}
		}
	case reflect.Slice:
		if (a.Len() != 0 || b.Len() != 0) && !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, path)
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, path)
		}
	}
}
