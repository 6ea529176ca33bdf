package emulator

import (
	"cmp"
	"net/http"
	"slices"
	"time"
)

type kvKey struct{ tenant, namespace, key string }

type kvEntry struct {
	typ         string
	value       any
	revision    int
	description string
	created     time.Time
	updated     time.Time
	expiration  *time.Time
}

// kvEntriesLocked lists the live entries of a tenant matching keep, sorted
// by namespace and key.
func (en *engine) kvEntriesLocked(tenant string, keep func(kvKey) bool) []kvEntryJSON {
	var out []kvEntryJSON
	for k, e := range en.kv {
		if k.tenant == tenant && !e.expired() && keep(k) {
			out = append(out, kvEntryJSON{
				Namespace: k.namespace, Key: k.key, Revision: e.revision, Description: e.description,
				CreationDate: e.created, UpdateDate: e.updated, ExpirationDate: e.expiration,
			})
		}
	}
	slices.SortFunc(out, func(a, b kvEntryJSON) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Key, b.Key))
	})
	if out == nil {
		out = []kvEntryJSON{}
	}
	return out
}

func (e *kvEntry) expired() bool {
	return e.expiration != nil && !now().Before(*e.expiration)
}

// putKV stores a KV pair, the next revision of an existing one.
func (en *engine) putKV(k kvKey, typ string, val any, description string, exp *time.Time) {
	en.mu.Lock()
	defer en.mu.Unlock()
	t := now()
	e := &kvEntry{typ: typ, value: val, revision: 1, description: description, created: t, updated: t, expiration: exp}
	if old := en.kv[k]; old != nil {
		e.revision = old.revision + 1
		e.created = old.created
	}
	en.kv[k] = e
}

// kvValue is a KV pair as read.
type kvValue struct {
	typ      string
	value    any
	revision int
	updated  time.Time
}

// getKV reads a KV pair: 404 when absent, 410 the first time it is read
// expired, which deletes it (later reads find nothing: InternalKVStore#getRawValue,
// Kestra 1.3.19 and 2.0.0-SNAPSHOT).
func (en *engine) getKV(k kvKey) (kvValue, error) {
	en.mu.Lock()
	e := en.kv[k]
	expired := e != nil && e.expired()
	if expired {
		delete(en.kv, k)
	}
	en.mu.Unlock()
	if e == nil {
		return kvValue{}, errNotFound("No value found for key '" + k.key + "' in namespace '" + k.namespace + "'")
	}
	if expired {
		return kvValue{}, &apiError{status: http.StatusGone, message: "Resource has expired: The requested value has expired"}
	}
	typ, val, err := kvRead(e)
	if err != nil {
		return kvValue{}, err
	}
	return kvValue{typ: typ, value: val, revision: e.revision, updated: e.updated}, nil
}

// deleteKV deletes a KV pair; false when there was none.
func (en *engine) deleteKV(k kvKey) bool {
	en.mu.Lock()
	defer en.mu.Unlock()
	_, ok := en.kv[k]
	delete(en.kv, k)
	return ok
}

// deleteKVKeys deletes the given keys of a namespace and returns those
// that existed.
func (en *engine) deleteKVKeys(tenant, ns string, keys []string) []string {
	en.mu.Lock()
	defer en.mu.Unlock()
	deleted := []string{}
	for _, key := range keys {
		k := kvKey{tenant, ns, key}
		if _, ok := en.kv[k]; ok {
			delete(en.kv, k)
			deleted = append(deleted, key)
		}
	}
	return deleted
}

// kvEntries lists the live entries of a tenant matching keep, sorted by
// namespace and key.
func (en *engine) kvEntries(tenant string, keep func(kvKey) bool) []kvEntryJSON {
	en.mu.Lock()
	defer en.mu.Unlock()
	return en.kvEntriesLocked(tenant, keep)
}
