package kestra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/kestra-go/sdk/gen"
)

// FilesService manages namespace files: the scripts, queries and other
// files a namespace's flows read.
//
// Paths are absolute within the namespace ("/scripts/etl.py"); a path
// without a leading "/" gets one ("scripts/etl.py" is the same file).
// Paths holding a ".." segment, a NUL byte, or (except for directory
// listings) no name at all are refused before any request. Paths travel
// URL-escaped in the query, so spaces, non-ASCII letters, '&', '#' and '+'
// reach Kestra intact. Kestra 1.x then stores a space as '+' ("/a b.txt"
// is the file "/a+b.txt", which the same path finds again and a listing
// shows with '+'), so "/a b.txt" and "/a+b.txt" are one file there;
// Kestra 2.0 keeps the space. Paths under "/_flows" are refused by
// Kestra, except for an upload (see [FilesService.Upload]).
type FilesService service

// FileInfo describes a namespace file or directory.
type FileInfo gen.FileAttributes

// IsDir reports whether the entry is a directory.
func (f *FileInfo) IsDir() bool { return f.Type == gen.FileAttributesFileTypeDirectory }

// ModTime returns when the entry was last modified.
func (f *FileInfo) ModTime() time.Time { return time.UnixMilli(f.LastModifiedTime) }

// Created returns when the entry was created.
func (f *FileInfo) Created() time.Time { return time.UnixMilli(f.CreationTime) }

// nsFile refuses an empty namespace, then checks p as [nsPath] does.
func nsFile(namespace, p string, allowRoot bool) (string, error) {
	if err := nonEmptyNamespace(namespace); err != nil {
		return "", err
	}
	return nsPath(p, allowRoot)
}

// nsPath checks a namespace file path and makes it absolute. allowRoot
// accepts "/" (and the empty path, read as "/").
func nsPath(p string, allowRoot bool) (string, error) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("kestra: namespace file path %q contains a NUL byte", p)
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("kestra: namespace file path %q: '..' segments are not allowed", p)
		}
	}
	if !allowRoot && strings.Trim(p, "/.") == "" {
		return "", fmt.Errorf("kestra: namespace file path %q names no file", p)
	}
	return p, nil
}

// Upload stores the content of r as the file filePath of namespace,
// creating its parent directories and replacing any file of that path.
// The content is streamed: it is never held in memory whole, and Upload
// reads r until EOF without closing it. When Upload returns, it no
// longer reads r (so a Read blocked in r delays its return); an error
// from r fails the upload.
//
// Kestra extracts a file whose name (the last segment of filePath) ends
// in ".zip", in any case, instead of storing it: each file entry of the
// archive is written at its own path from the namespace root, whatever
// the directory of filePath ("/a/b.zip" holding "x/c.txt" writes
// "/x/c.txt", not "/a/x/c.txt"), replacing any file there; content that
// is not a zip archive stores nothing, without error. A file uploaded
// as "/_flows/<name>" (or a zip entry "_flows/<name>") is imported as a
// flow of namespace instead of stored: its first "namespace: " line is
// rewritten to namespace; a deeper path under "/_flows/" is refused.
//
// The call is bounded by ctx only, not by [Config.Timeout], and is never
// retried (r cannot be read twice).
//
// Kestra API: POST /api/v1/{tenant}/namespaces/{namespace}/files
func (s *FilesService) Upload(ctx context.Context, namespace, filePath string, r io.Reader) error {
	p, err := nsFile(namespace, filePath, false)
	if err != nil {
		return err
	}
	if r == nil {
		return errors.New("kestra: Upload: nil reader")
	}

	src := &uploadReader{r: r}
	body, contentType, finish := pipeMultipart(func(mw *multipart.Writer) error {
		part, err := mw.CreateFormFile("fileContent", path.Base(p))
		if err == nil {
			_, err = io.Copy(part, src)
		}
		return err
	})

	err = s.c.run(ctx, &call{
		method: http.MethodPost, path: "namespaces/{namespace}/files", args: []string{namespace},
		query: url.Values{"path": {p}}, body: body, contentType: contentType, header: expectContinue(),
		untimed: true, once: true,
	})
	// However the request ended, unblock the writer and wait for it (with
	// no escape on ctx), so that no goroutine outlives the call and r is
	// no longer read.
	finish(context.Background())
	if src.err != nil {
		return fmt.Errorf("kestra: upload %s: read content: %w", p, src.err)
	}
	return err
}

// uploadReader reads the content of an upload in chunks (it hides any
// WriteTo method) and keeps the first read error.
type uploadReader struct {
	r   io.Reader
	err error
}

func (u *uploadReader) Read(b []byte) (int, error) {
	n, err := u.r.Read(b)
	if err != nil && err != io.EOF && u.err == nil {
		u.err = err
	}
	return n, err
}

// Download returns the content of the file filePath of namespace as a
// stream the caller must close. A missing file answers [ErrNotFound]. The
// stream is bounded by ctx only, not by [Config.Timeout].
//
// Kestra API: GET /api/v1/{tenant}/namespaces/{namespace}/files
func (s *FilesService) Download(ctx context.Context, namespace, filePath string) (io.ReadCloser, error) {
	p, err := nsFile(namespace, filePath, false)
	if err != nil {
		return nil, err
	}
	return s.c.openStream(ctx, &call{method: http.MethodGet, path: "namespaces/{namespace}/files", args: []string{namespace}, query: url.Values{"path": {p}}})
}

// List returns the entries of the directory dir of namespace ("" or "/":
// the root), sorted as Kestra sorts them. A missing directory answers
// [ErrNotFound].
//
// Kestra API: GET /api/v1/{tenant}/namespaces/{namespace}/files/directory
func (s *FilesService) List(ctx context.Context, namespace, dir string) ([]*FileInfo, error) {
	p, err := nsFile(namespace, dir, true)
	if err != nil {
		return nil, err
	}
	var out []*FileInfo
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "namespaces/{namespace}/files/directory", args: []string{namespace}, query: url.Values{"path": {p}}, out: &out}); err != nil {
		return nil, err
	}
	return out, noNil(out, "file")
}

// Stat describes the file or directory filePath of namespace. A missing
// one answers [ErrNotFound].
//
// Kestra API: GET /api/v1/{tenant}/namespaces/{namespace}/files/stats
func (s *FilesService) Stat(ctx context.Context, namespace, filePath string) (*FileInfo, error) {
	p, err := nsFile(namespace, filePath, true)
	if err != nil {
		return nil, err
	}
	var fi FileInfo
	if err := s.c.run(ctx, &call{method: http.MethodGet, path: "namespaces/{namespace}/files/stats", args: []string{namespace}, query: url.Values{"path": {p}}, out: &fi}); err != nil {
		return nil, err
	}
	return &fi, nil
}

// Mkdir creates the directory dir of namespace and its parents. An
// existing directory is not an error.
//
// Kestra API: POST /api/v1/{tenant}/namespaces/{namespace}/files/directory
func (s *FilesService) Mkdir(ctx context.Context, namespace, dir string) error {
	p, err := nsFile(namespace, dir, false)
	if err != nil {
		return err
	}
	return s.c.run(ctx, &call{method: http.MethodPost, path: "namespaces/{namespace}/files/directory", args: []string{namespace}, query: url.Values{"path": {p}}})
}

// Move renames the file or directory from to the path to, in the same
// namespace; a directory moves with its content. A missing source answers
// [ErrNotFound]; an existing destination [ErrInvalid]. Move is never
// re-sent once it may have reached Kestra: after a lost answer, check
// with [FilesService.Stat].
//
// Kestra API: PUT /api/v1/{tenant}/namespaces/{namespace}/files
func (s *FilesService) Move(ctx context.Context, namespace, from, to string) error {
	f, err := nsFile(namespace, from, false)
	if err != nil {
		return err
	}
	t, err := nsPath(to, false)
	if err != nil {
		return err
	}
	return s.c.run(ctx, &call{
		method: http.MethodPut, path: "namespaces/{namespace}/files", args: []string{namespace},
		query: url.Values{"from": {f}, "to": {t}}, once: true,
	})
}

// Delete removes the file or directory filePath of namespace; a
// directory goes with its content. A missing path answers [ErrNotFound];
// a delete sent again after a lost answer that finds the path gone
// reports success.
//
// Kestra API: DELETE /api/v1/{tenant}/namespaces/{namespace}/files
func (s *FilesService) Delete(ctx context.Context, namespace, filePath string) error {
	p, err := nsFile(namespace, filePath, false)
	if err != nil {
		return err
	}
	return s.c.run(ctx, &call{
		method: http.MethodDelete, path: "namespaces/{namespace}/files", args: []string{namespace},
		query: url.Values{"path": {p}}, goneOK: true,
	})
}

// Export returns every file of namespace as a zip archive stream the
// caller must close. The stream is bounded by ctx only, not by
// [Config.Timeout].
//
// Kestra API: GET /api/v1/{tenant}/namespaces/{namespace}/files/export
func (s *FilesService) Export(ctx context.Context, namespace string) (io.ReadCloser, error) {
	if err := nonEmptyNamespace(namespace); err != nil {
		return nil, err
	}
	return s.c.openStream(ctx, &call{method: http.MethodGet, path: "namespaces/{namespace}/files/export", args: []string{namespace}})
}
