package emulator

import (
	"path"
	"slices"
	"strings"
	"time"
)

type nsKey struct{ tenant, namespace string }

type nsFile struct {
	dir      bool
	data     []byte
	created  time.Time
	modified time.Time
}

// nsTree holds a namespace's files by clean absolute path; directories
// are explicit entries, created for every parent of a file.
type nsTree struct {
	entries map[string]*nsFile
}

func (t *nsTree) mkdirAll(p string, at time.Time) {
	for d := p; d != "/" && d != "."; d = path.Dir(d) {
		if e := t.entries[d]; e == nil {
			t.entries[d] = &nsFile{dir: true, created: at, modified: at}
		}
	}
}

func (t *nsTree) put(p string, data []byte) {
	at := now()
	t.mkdirAll(path.Dir(p), at)
	if e := t.entries[p]; e != nil && !e.dir {
		e.data, e.modified = data, at
		return
	}
	t.entries[p] = &nsFile{data: data, created: at, modified: at}
}

// treeLocked returns the files of a namespace, created empty if asked.
func (en *engine) treeLocked(k nsKey, create bool) *nsTree {
	t := en.nsFiles[k]
	if t == nil && create {
		t = &nsTree{entries: map[string]*nsFile{}}
		en.nsFiles[k] = t
	}
	return t
}

// nsEntry is a namespace file or directory as read: a copy.
type nsEntry struct {
	path string
	nsFile
}

// putNamespaceFile stores a file at the clean path p, or deploys a flow
// of the namespace when p is /_flows/<file>: exactly one segment under
// /_flows, its first "namespace: " line rewritten to the target namespace
// (NamespaceFileController#putNamespaceFile, 1.3.19 and 2.0.0-SNAPSHOT).
func (en *engine) putNamespaceFile(k nsKey, p string, data []byte) error {
	if strings.HasPrefix(p, "/_flows/") {
		if strings.Count(strings.TrimSuffix(p, "/"), "/") != 2 {
			return errIllegalArgument("Invalid flow file path: " + p)
		}
		src := string(data)
		if loc := namespaceLineRe.FindStringIndex(src); loc != nil {
			src = src[:loc[0]] + "namespace: " + k.namespace + src[loc[1]:]
		}
		pf, aerr := en.parseFlow(src)
		if aerr != nil {
			return aerr
		}
		en.saveFlow(k.tenant, pf, src)
		return nil
	}
	if p == "/_flows" {
		return errIllegalArgument("Forbidden path: " + p)
	}
	en.mu.Lock()
	defer en.mu.Unlock()
	t := en.treeLocked(k, true)
	if e := t.entries[p]; e != nil && e.dir {
		return errIllegalArgument("Path '" + p + "' is a directory")
	}
	t.put(p, data)
	return nil
}

// namespaceFile returns the file at p; 404 when absent or a directory.
func (en *engine) namespaceFile(k nsKey, p string) ([]byte, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	var e *nsFile
	if t := en.treeLocked(k, false); t != nil {
		e = t.entries[p]
	}
	if e == nil || e.dir {
		return nil, errNotFound("File not found: " + p)
	}
	return e.data, nil
}

// listDirectory returns the entries right under the directory p, by name.
func (en *engine) listDirectory(k nsKey, p string) ([]nsEntry, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	t := en.treeLocked(k, false)
	if p != "/" && (t == nil || t.entries[p] == nil || !t.entries[p].dir) {
		return nil, errNotFound("Directory not found: " + p)
	}
	var out []nsEntry
	if t != nil {
		for ep, e := range t.entries {
			if path.Dir(ep) == p && ep != p {
				out = append(out, nsEntry{ep, *e})
			}
		}
	}
	slices.SortFunc(out, func(a, b nsEntry) int { return strings.Compare(path.Base(a.path), path.Base(b.path)) })
	return out, nil
}

// createDirectory creates the directory p and its parents.
func (en *engine) createDirectory(k nsKey, p string) error {
	en.mu.Lock()
	defer en.mu.Unlock()
	t := en.treeLocked(k, true)
	if e := t.entries[p]; e != nil && !e.dir {
		return errIllegalArgument("Path '" + p + "' is a file")
	}
	t.mkdirAll(p, now())
	return nil
}

// fileStat returns the entry at p (not the root).
func (en *engine) fileStat(k nsKey, p string) (nsEntry, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	t := en.treeLocked(k, false)
	if t == nil || t.entries[p] == nil {
		return nsEntry{}, errNotFound("File not found: " + p)
	}
	return nsEntry{p, *t.entries[p]}, nil
}

// moveFile moves a file or a directory and what it holds.
func (en *engine) moveFile(k nsKey, from, to string) error {
	en.mu.Lock()
	defer en.mu.Unlock()
	t := en.treeLocked(k, false)
	if t == nil || t.entries[from] == nil {
		return errNotFound("File not found: " + from)
	}
	if t.entries[to] != nil {
		return errIllegalArgument("File '" + to + "' already exists")
	}
	at := now()
	t.mkdirAll(path.Dir(to), at)
	for ep, e := range t.entries {
		if ep == from || strings.HasPrefix(ep, from+"/") {
			delete(t.entries, ep)
			t.entries[to+strings.TrimPrefix(ep, from)] = e
		}
	}
	return nil
}

// deleteFile deletes a file or a directory and what it holds.
func (en *engine) deleteFile(k nsKey, p string) error {
	en.mu.Lock()
	defer en.mu.Unlock()
	t := en.treeLocked(k, false)
	if t == nil || t.entries[p] == nil {
		return errNotFound("File not found: " + p)
	}
	for ep := range t.entries {
		if ep == p || strings.HasPrefix(ep, p+"/") {
			delete(t.entries, ep)
		}
	}
	return nil
}

// namespaceFiles returns the files (not directories) of a namespace by
// path.
func (en *engine) namespaceFiles(k nsKey) []nsEntry {
	en.mu.Lock()
	defer en.mu.Unlock()
	var out []nsEntry
	if t := en.treeLocked(k, false); t != nil {
		for p, e := range t.entries {
			if !e.dir {
				out = append(out, nsEntry{p, *e})
			}
		}
	}
	slices.SortFunc(out, func(a, b nsEntry) int { return strings.Compare(a.path, b.path) })
	return out
}
