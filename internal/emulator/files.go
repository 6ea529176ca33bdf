package emulator

import (
	"archive/zip"
	"bytes"
	"io"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
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

func cleanPath(p string) (string, error) {
	if p == "" {
		return "", errBadRequest("Required QueryValue [path] not specified")
	}
	c := path.Clean("/" + p)
	for _, seg := range strings.Split(c, "/") {
		if len(seg) > 255 {
			return "", errIllegalArgument("Path segment too long: " + seg)
		}
	}
	return c, nil
}

// storedPath is the path Kestra stores a file under for the path a client
// sent: 1.3 runs the path through URLEncoder and reads it back with
// URI#getPath, which turns a space into '+' and keeps the rest
// (NamespaceFileController, 1.3.19); 2.0 builds the URI from the path as
// is (toFileUri, 2.0.0-SNAPSHOT).
func (s *Server) storedPath(raw string) (string, error) {
	p, err := cleanPath(raw)
	if err != nil {
		return "", err
	}
	if s.cfg.version == Version13 {
		p = strings.ReplaceAll(p, " ", "+")
	}
	return p, nil
}

// filePath is the stored path of a file operation's path; /_flows and
// what is under it are refused (forbiddenPathsGuard,
// NamespaceFileController, 1.3.19 and 2.0.0-SNAPSHOT).
func (s *Server) filePath(raw string) (string, error) {
	p, err := s.storedPath(raw)
	if err != nil {
		return "", err
	}
	if p == "/_flows" || strings.HasPrefix(p, "/_flows/") {
		return "", errIllegalArgument("Forbidden path: " + p)
	}
	return p, nil
}

// namespaceLineRe is the first "namespace: " line Kestra rewrites in a
// flow imported through /_flows/ (Java's "." stops at \r as at \n).
var namespaceLineRe = regexp.MustCompile(`(?m)^namespace: [^\r\n]*$`)

// putNamespaceFile stores one uploaded file at p, or imports it as a flow
// of the namespace when p is /_flows/<file>: exactly one segment under
// /_flows, its first "namespace: " line rewritten to the target namespace
// (NamespaceFileController#putNamespaceFile, 1.3.19 and 2.0.0-SNAPSHOT).
func (s *Server) putNamespaceFile(r *http.Request, p string, data []byte) error {
	if strings.HasPrefix(p, "/_flows/") {
		if strings.Count(strings.TrimSuffix(p, "/"), "/") != 2 {
			return errIllegalArgument("Invalid flow file path: " + p)
		}
		src := string(data)
		if loc := namespaceLineRe.FindStringIndex(src); loc != nil {
			src = src[:loc[0]] + "namespace: " + r.PathValue("namespace") + src[loc[1]:]
		}
		pf, aerr := s.parseFlow(src)
		if aerr != nil {
			return aerr
		}
		s.mu.Lock()
		s.saveFlowLocked(tenantOf(r), pf, src)
		s.mu.Unlock()
		return nil
	}
	if p == "/_flows" {
		return errIllegalArgument("Forbidden path: " + p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.treeLocked(r, true)
	if e := t.entries[p]; e != nil && e.dir {
		return errIllegalArgument("Path '" + p + "' is a directory")
	}
	t.put(p, data)
	return nil
}

func (s *Server) treeLocked(r *http.Request, create bool) *nsTree {
	k := nsKey{tenantOf(r), r.PathValue("namespace")}
	t := s.nsFiles[k]
	if t == nil && create {
		t = &nsTree{entries: map[string]*nsFile{}}
		s.nsFiles[k] = t
	}
	return t
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

// uploadFile stores an uploaded file. A part whose file name ends in
// ".zip" (any case) is extracted entry by entry at the namespace root,
// whatever the path, directory entries skipped; each entry is stored as
// an upload of its own (NamespaceFileController#innerCreateNamespaceFile,
// 1.3.19 and 2.0.0-SNAPSHOT).
func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.storedPath(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return &apiError{status: http.StatusUnsupportedMediaType, message: "Unsupported Media Type: Content Type [" + mt + "] not allowed. Allowed types: [multipart/form-data]"}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return errBadRequest(err.Error())
	}
	var data []byte
	var filename string
	found := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errBadRequest(err.Error())
		}
		if part.FormName() != "fileContent" {
			continue
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, io.LimitReader(part, maxBody)); err != nil {
			return errBadRequest(err.Error())
		}
		data, filename, found = buf.Bytes(), part.FileName(), true
	}
	if !found {
		return &apiError{status: http.StatusBadRequest, message: "Bad Request: Required argument [CompletedFileUpload fileContent] not specified"}
	}
	if !strings.HasSuffix(strings.ToLower(filename), ".zip") {
		if err := s.putNamespaceFile(r, p, data); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		// ZipInputStream finds no entry in what is not a zip: nothing is
		// stored, and the upload succeeds.
		w.WriteHeader(http.StatusOK)
		return nil
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return errInternal("Invalid zip file: " + err.Error())
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		dst, err := cleanPath("/" + f.Name)
		if err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return errInternal("Invalid zip file: " + err.Error())
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxBody))
		rc.Close()
		if err != nil {
			return errInternal("Invalid zip file: " + err.Error())
		}
		if err := s.putNamespaceFile(r, dst, b); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) downloadFile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.filePath(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	var e *nsFile
	if t := s.treeLocked(r, false); t != nil {
		e = t.entries[p]
	}
	s.mu.Unlock()
	if e == nil || e.dir {
		return errNotFound("File not found: " + p)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(e.data)))
	_, _ = w.Write(e.data)
	return nil
}

// fileAttrs is Kestra's FileAttributes JSON.
type fileAttrs struct {
	FileName         string            `json:"fileName"`
	LastModifiedTime int64             `json:"lastModifiedTime"`
	CreationTime     int64             `json:"creationTime"`
	Type             string            `json:"type"`
	Size             int64             `json:"size"`
	Metadata         map[string]string `json:"metadata"`
}

func attrsOf(p string, e *nsFile) fileAttrs {
	a := fileAttrs{FileName: path.Base(p), LastModifiedTime: e.modified.UnixMilli(), CreationTime: e.created.UnixMilli(), Type: "File", Size: int64(len(e.data)), Metadata: map[string]string{}}
	if e.dir {
		a.Type, a.Size = "Directory", 0
	}
	return a
}

// dirPathParam reads the path query parameter of a directory operation,
// where an absent path means the root.
func (s *Server) dirPathParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		p = "/"
	}
	return s.filePath(p)
}

func (s *Server) listDirectory(w http.ResponseWriter, r *http.Request) error {
	p, err := s.dirPathParam(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	t := s.treeLocked(r, false)
	out := []fileAttrs{}
	if p != "/" && (t == nil || t.entries[p] == nil || !t.entries[p].dir) {
		s.mu.Unlock()
		return errNotFound("Directory not found: " + p)
	}
	if t != nil {
		for ep, e := range t.entries {
			if path.Dir(ep) == p && ep != p {
				out = append(out, attrsOf(ep, e))
			}
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b fileAttrs) int { return strings.Compare(a.FileName, b.FileName) })
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createDirectory(w http.ResponseWriter, r *http.Request) error {
	p, err := s.filePath(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.treeLocked(r, true)
	if e := t.entries[p]; e != nil && !e.dir {
		return errIllegalArgument("Path '" + p + "' is a file")
	}
	t.mkdirAll(p, now())
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) fileStats(w http.ResponseWriter, r *http.Request) error {
	p, err := s.dirPathParam(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.treeLocked(r, false)
	if p == "/" {
		writeJSON(w, http.StatusOK, fileAttrs{FileName: "", Type: "Directory", Metadata: map[string]string{}})
		return nil
	}
	if t == nil || t.entries[p] == nil {
		return errNotFound("File not found: " + p)
	}
	writeJSON(w, http.StatusOK, attrsOf(p, t.entries[p]))
	return nil
}

func (s *Server) moveFile(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err := s.filePath(q.Get("from"))
	if err != nil {
		return err
	}
	to, err := s.filePath(q.Get("to"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.treeLocked(r, false)
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
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.filePath(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.treeLocked(r, false)
	if t == nil || t.entries[p] == nil {
		return errNotFound("File not found: " + p)
	}
	for ep := range t.entries {
		if ep == p || strings.HasPrefix(ep, p+"/") {
			delete(t.entries, ep)
		}
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) exportFiles(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	s.mu.Lock()
	if t := s.treeLocked(r, false); t != nil {
		paths := make([]string, 0, len(t.entries))
		for p, e := range t.entries {
			if !e.dir {
				paths = append(paths, p)
			}
		}
		slices.Sort(paths)
		for _, p := range paths {
			fw, err := zw.Create(strings.TrimPrefix(p, "/"))
			if err == nil {
				_, _ = fw.Write(t.entries[p].data)
			}
		}
	}
	s.mu.Unlock()
	if err := zw.Close(); err != nil {
		return errInternal(err.Error())
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+ns+`_files.zip"`)
	_, _ = w.Write(buf.Bytes())
	return nil
}
