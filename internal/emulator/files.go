package emulator

import (
	"archive/zip"
	"bytes"
	"io"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
)

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
		if err := s.engine.putNamespaceFile(nsKeyOf(r), p, data); err != nil {
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
		if err := s.engine.putNamespaceFile(nsKeyOf(r), dst, b); err != nil {
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
	data, err := s.namespaceFile(nsKeyOf(r), p)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
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
	entries, err := s.engine.listDirectory(nsKeyOf(r), p)
	if err != nil {
		return err
	}
	out := []fileAttrs{}
	for _, e := range entries {
		out = append(out, attrsOf(e.path, &e.nsFile))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createDirectory(w http.ResponseWriter, r *http.Request) error {
	p, err := s.filePath(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	if err := s.engine.createDirectory(nsKeyOf(r), p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) fileStats(w http.ResponseWriter, r *http.Request) error {
	p, err := s.dirPathParam(r)
	if err != nil {
		return err
	}
	if p == "/" {
		writeJSON(w, http.StatusOK, fileAttrs{FileName: "", Type: "Directory", Metadata: map[string]string{}})
		return nil
	}
	e, err := s.fileStat(nsKeyOf(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, attrsOf(e.path, &e.nsFile))
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
	if err := s.engine.moveFile(nsKeyOf(r), from, to); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.filePath(r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	if err := s.engine.deleteFile(nsKeyOf(r), p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) exportFiles(w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("namespace")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range s.namespaceFiles(nsKeyOf(r)) {
		fw, err := zw.Create(strings.TrimPrefix(e.path, "/"))
		if err == nil {
			_, _ = fw.Write(e.data)
		}
	}
	if err := zw.Close(); err != nil {
		return errInternal(err.Error())
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+ns+`_files.zip"`)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// nsKeyOf is the namespace of a namespace file request.
func nsKeyOf(r *http.Request) nsKey { return nsKey{tenantOf(r), r.PathValue("namespace")} }
