package emulator

import (
	"cmp"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"
)

var kvKeyRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]*$`)

func checkKVKey(key string) error {
	if !kvKeyRe.MatchString(key) {
		return errIllegalArgument("Key must start with an alphanumeric character (uppercase or lowercase) and can contain alphanumeric characters (uppercase or lowercase), dots (.), underscores (_), and hyphens (-) only.")
	}
	return nil
}

var (
	dateRe     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	dateTimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T`)
	// ionSymbolRe is an Ion identifier symbol, which Kestra's Ion parse
	// reads as a string.
	ionSymbolRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)
	// kvDurationRe with the checks of isKVDuration is the DURATION_PATTERN
	// of InternalKVStore (Kestra 1.3.19 and 2.0.0-SNAPSHOT), whose
	// lookaheads Go's regexp lacks.
	kvDurationRe = regexp.MustCompile(`^P(?:\d*D)?(?:T(?:\d*H)?(?:\d*M)?(?:\d*S)?)?$`)
)

// isKVDuration reports whether a stored string reads back as a DURATION:
// upper case, no sign, no fraction, at least one part after P and after T.
func isKVDuration(v string) bool {
	return len(v) > 1 && !strings.HasSuffix(v, "T") && kvDurationRe.MatchString(v)
}

// typeKV types a KV body as Kestra's Ion parse of it does
// (KVController#setKeyValue); text that does not parse is a raw string.
// Nothing becomes a DURATION here: Kestra decides that when the value is
// read (see kvRead).
func typeKV(body string) (string, any) {
	trimmed := strings.TrimSpace(body)
	var v any
	if err := json.Unmarshal([]byte(trimmed), &v); err == nil {
		switch x := v.(type) {
		case string:
			return "STRING", x
		case float64:
			return "NUMBER", json.Number(trimmed)
		case bool:
			return "BOOLEAN", x
		case map[string]any, []any:
			return "JSON", x
		case nil:
			return "STRING", body
		}
	}
	switch {
	case dateRe.MatchString(trimmed):
		return "DATE", trimmed
	case dateTimeRe.MatchString(trimmed):
		if t, err := time.Parse(time.RFC3339Nano, trimmed); err == nil {
			return "DATETIME", t.UTC().Format(time.RFC3339Nano)
		}
	case ionSymbolRe.MatchString(trimmed):
		return "STRING", trimmed
	}
	return "STRING", body
}

// kvRead is the type and value a GET answers for a stored entry: a string
// matching Kestra's duration pattern is read as a java.time.Duration and
// written back as one ("P1D" is "PT24H"); a string that matches but does
// not parse ("PD") fails as Duration.parse does, with a 500
// (InternalKVStore#getValue, Kestra 1.3.19 and 2.0.0-SNAPSHOT).
func kvRead(e *kvEntry) (string, any, error) {
	if str, ok := e.value.(string); ok && e.typ == "STRING" && isKVDuration(str) {
		d, err := parseISODuration(str)
		if err != nil {
			return "", nil, errInternal("Text cannot be parsed to a Duration")
		}
		return "DURATION", formatISODuration(d), nil
	}
	return e.typ, e.value, nil
}

func (s *Server) putKV(w http.ResponseWriter, r *http.Request) error {
	k := kvKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("key")}
	if err := checkKVKey(k.key); err != nil {
		return err
	}
	var exp *time.Time
	if ttl := r.Header.Get("ttl"); ttl != "" {
		d, err := parseISODuration(ttl)
		if err != nil {
			return errInternal("Text cannot be parsed to a Duration")
		}
		t := now().Add(d)
		exp = &t
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	typ, val := typeKV(body)
	s.engine.putKV(k, typ, val, r.Header.Get("description"), exp)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getKV(w http.ResponseWriter, r *http.Request) error {
	k := kvKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("key")}
	if err := checkKVKey(k.key); err != nil {
		return err
	}
	v, err := s.engine.getKV(k)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": v.typ, "value": v.value, "revision": v.revision, "updated": v.updated})
	return nil
}

func (s *Server) deleteKV(w http.ResponseWriter, r *http.Request) error {
	k := kvKey{tenantOf(r), r.PathValue("namespace"), r.PathValue("key")}
	if err := checkKVKey(k.key); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.engine.deleteKV(k))
	return nil
}

func (s *Server) bulkDeleteKV(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Keys []string `json:"keys"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return &apiError{status: http.StatusUnprocessableEntity, message: "Invalid json: " + err.Error()}
	}
	ns, tenant := r.PathValue("namespace"), tenantOf(r)
	deleted := s.deleteKVKeys(tenant, ns, req.Keys)
	writeJSON(w, http.StatusOK, map[string]any{"keys": deleted})
	return nil
}

// kvEntryJSON is Kestra's KVEntry.
type kvEntryJSON struct {
	Namespace      string     `json:"namespace"`
	Key            string     `json:"key"`
	Revision       int        `json:"revision"`
	Description    string     `json:"description,omitempty"`
	CreationDate   time.Time  `json:"creationDate"`
	UpdateDate     time.Time  `json:"updateDate"`
	ExpirationDate *time.Time `json:"expirationDate,omitempty"`
}

var kvSorts = map[string]func(a, b kvEntryJSON) int{
	"key":        func(a, b kvEntryJSON) int { return cmp.Compare(a.Key, b.Key) },
	"namespace":  func(a, b kvEntryJSON) int { return cmp.Compare(a.Namespace, b.Namespace) },
	"updateDate": func(a, b kvEntryJSON) int { return a.UpdateDate.Compare(b.UpdateDate) },
}

var kvFilterFields = map[string]bool{"namespace": true, "key": true, "q": true, "updateDate": true}

func (s *Server) listKV(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pp, err := parsePage(q, sortKeys(kvSorts))
	if err != nil {
		return err
	}
	fs, err := parseFilters(q, kvFilterFields)
	if err != nil {
		return err
	}
	items := s.kvEntries(tenantOf(r), func(k kvKey) bool {
		return fs.match(func(f queryFilter) bool {
			switch f.field {
			case "namespace":
				return matchString(f.op, k.namespace, f.value)
			case "key":
				return matchString(f.op, k.key, f.value)
			case "q":
				return matchString("CONTAINS", k.key, f.value)
			}
			return true
		})
	})
	writeJSON(w, http.StatusOK, paginate(items, pp, kvSorts))
	return nil
}

func (s *Server) listNamespaceKV(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	items := s.kvEntries(tenantOf(r), func(k kvKey) bool { return k.namespace == ns })
	writeJSON(w, http.StatusOK, items)
	return nil
}

// inheritedKV lists the entries of the parent namespaces (a.b.c sees a.b
// and a).
func (s *Server) inheritedKV(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	parents := map[string]bool{}
	for p := ns; strings.Contains(p, "."); {
		p = p[:strings.LastIndex(p, ".")]
		parents[p] = true
	}
	items := s.kvEntries(tenantOf(r), func(k kvKey) bool { return parents[k.namespace] })
	writeJSON(w, http.StatusOK, items)
	return nil
}
