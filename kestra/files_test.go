package kestra_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kestra-go/sdk/kestra"
)

// genReader yields n deterministic pseudo-random bytes without holding
// them: a fixed random block of an odd length, repeated, so that a lost,
// repeated or reordered chunk changes the digest.
type genReader struct {
	n   int64
	off int
}

var genBlock = func() []byte {
	b := make([]byte, 65599)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}()

func newGenReader(n int64) *genReader { return &genReader{n: n} }

func (g *genReader) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	n := copy(p, genBlock[g.off:])
	g.off = (g.off + n) % len(genBlock)
	g.n -= int64(n)
	return n, nil
}

func download(t *testing.T, c *kestra.Client, ns, p string) string {
	t.Helper()
	rc, err := c.Files.Download(t.Context(), ns, p)
	if err != nil {
		t.Fatalf("Download(%q): %v", p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Download(%q): read: %v", p, err)
	}
	return string(b)
}

func fileNames(infos []*kestra.FileInfo) []string {
	var out []string
	for _, f := range infos {
		name := f.FileName
		if f.IsDir() {
			name += "/"
		}
		out = append(out, name)
	}
	return out
}

func TestFilesRoundTripEscaping(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	for _, p := range []string{
		"/dir with space/ünï.txt",
		"/q/a&b=c#d+e%20f?.txt",
		"/日本/語.sql",
	} {
		env.emu.ClearRequests()
		content := "content of " + p
		if err := env.c.Files.Upload(ctx, "company.team", p, strings.NewReader(content)); err != nil {
			t.Fatalf("Upload(%q): %v", p, err)
		}
		reqs := env.requestsTo("/files")
		if len(reqs) != 1 {
			t.Fatalf("Upload(%q): %d requests", p, len(reqs))
		}
		q, err := url.ParseQuery(reqs[0].RawQuery)
		if err != nil || q.Get("path") != p || len(q) != 1 {
			t.Errorf("Upload(%q): the server read query %q as %v (%v)", p, reqs[0].RawQuery, q, err)
		}
		if got := download(t, env.c, "company.team", p); got != content {
			t.Errorf("Download(%q) = %q, want %q", p, got, content)
		}
	}
	infos, err := env.c.Files.List(ctx, "company.team", "/dir with space")
	if err != nil {
		t.Fatal(err)
	}
	if got := fileNames(infos); !reflect.DeepEqual(got, []string{"ünï.txt"}) {
		t.Errorf("List(/dir with space) = %v", got)
	}
	if infos[0].Size != int64(len("content of /dir with space/ünï.txt")) || infos[0].ModTime().IsZero() || infos[0].Created().Before(time.Now().Add(-time.Minute)) {
		t.Errorf("FileInfo = %+v", infos[0])
	}
}

func TestFilesOperations(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	ns := "company.team"
	// A path without a leading slash is absolute.
	if err := env.c.Files.Upload(ctx, ns, "scripts/etl.py", strings.NewReader("print(1)")); err != nil {
		t.Fatal(err)
	}
	if got := download(t, env.c, ns, "/scripts/etl.py"); got != "print(1)" {
		t.Errorf("Download = %q", got)
	}
	if err := env.c.Files.Mkdir(ctx, ns, "/empty/nested"); err != nil {
		t.Fatal(err)
	}
	root, err := env.c.Files.List(ctx, ns, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := fileNames(root); !reflect.DeepEqual(got, []string{"empty/", "scripts/"}) {
		t.Errorf("List(root) = %v", got)
	}
	fi, err := env.c.Files.Stat(ctx, ns, "/scripts/etl.py")
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir() || fi.Size != 8 || fi.FileName != "etl.py" {
		t.Errorf("Stat(file) = %+v", fi)
	}
	if fi, err := env.c.Files.Stat(ctx, ns, "/empty"); err != nil || !fi.IsDir() {
		t.Errorf("Stat(dir) = %+v, %v", fi, err)
	}

	if err := env.c.Files.Move(ctx, ns, "/scripts", "/code/py"); err != nil {
		t.Fatal(err)
	}
	if got := download(t, env.c, ns, "/code/py/etl.py"); got != "print(1)" {
		t.Errorf("after Move: %q", got)
	}
	if _, err := env.c.Files.Download(ctx, ns, "/scripts/etl.py"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("Download(moved away): %v, want ErrNotFound", err)
	}
	if err := env.c.Files.Move(ctx, ns, "/nope", "/x"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("Move(missing): %v, want ErrNotFound", err)
	}

	if err := env.c.Files.Delete(ctx, ns, "/code"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.c.Files.Stat(ctx, ns, "/code/py/etl.py"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("Stat(deleted): %v, want ErrNotFound", err)
	}
	if err := env.c.Files.Delete(ctx, ns, "/code"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("Delete(deleted): %v, want ErrNotFound", err)
	}
	if _, err := env.c.Files.List(ctx, ns, "/missing"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("List(missing): %v, want ErrNotFound", err)
	}
}

func TestFilesExport(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	want := map[string]string{"a.txt": "A", "dir/b.txt": "B"}
	for p, c := range want {
		if err := env.c.Files.Upload(ctx, "ns", p, strings.NewReader(c)); err != nil {
			t.Fatal(err)
		}
	}
	rc, err := env.c.Files.Export(ctx, "ns")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		got[f.Name] = string(b)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("export = %v, want %v", got, want)
	}
}

func TestFilesRejectBeforeRequest(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	fs := env.c.Files
	for _, p := range []string{"/a/../b", "..", "../etc/passwd", "/a/..", "a/../../b", "/x\x00y"} {
		if err := fs.Upload(ctx, "ns", p, strings.NewReader("x")); err == nil {
			t.Errorf("Upload(%q): no error", p)
		}
		if _, err := fs.Download(ctx, "ns", p); err == nil {
			t.Errorf("Download(%q): no error", p)
		}
		if _, err := fs.List(ctx, "ns", p); err == nil {
			t.Errorf("List(%q): no error", p)
		}
		if _, err := fs.Stat(ctx, "ns", p); err == nil {
			t.Errorf("Stat(%q): no error", p)
		}
		if err := fs.Mkdir(ctx, "ns", p); err == nil {
			t.Errorf("Mkdir(%q): no error", p)
		}
		if err := fs.Move(ctx, "ns", p, "/ok"); err == nil {
			t.Errorf("Move(from %q): no error", p)
		}
		if err := fs.Move(ctx, "ns", "/ok", p); err == nil {
			t.Errorf("Move(to %q): no error", p)
		}
		if err := fs.Delete(ctx, "ns", p); err == nil {
			t.Errorf("Delete(%q): no error", p)
		}
	}
	// No file name at all.
	for _, p := range []string{"", "/", "//"} {
		if err := fs.Upload(ctx, "ns", p, strings.NewReader("x")); err == nil {
			t.Errorf("Upload(%q): no error", p)
		}
		if err := fs.Delete(ctx, "ns", p); err == nil {
			t.Errorf("Delete(%q): no error", p)
		}
	}
	if err := fs.Upload(ctx, "", "/a", strings.NewReader("x")); err == nil {
		t.Error("Upload(empty namespace): no error")
	}
	if err := fs.Upload(ctx, "ns", "/a", nil); err == nil {
		t.Error("Upload(nil reader): no error")
	}
	if _, err := fs.Export(ctx, ""); err == nil {
		t.Error("Export(empty namespace): no error")
	}
	if n := len(env.emu.Requests()); n != 0 {
		t.Errorf("the server saw %d requests, want none", n)
	}
}

// errAfterReader fails after n bytes.
type errAfterReader struct {
	n   int
	err error
}

func (r *errAfterReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, r.err
	}
	n := min(len(p), r.n)
	clear(p[:n])
	r.n -= n
	return n, nil
}

func TestFilesUploadReaderError(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	boom := errors.New("disk on fire")
	err := env.c.Files.Upload(t.Context(), "ns", "/big.bin", &errAfterReader{n: 1 << 20, err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("Upload: %v, want the reader's error", err)
	}
	if _, err := env.c.Files.Stat(t.Context(), "ns", "/big.bin"); !errors.Is(err, kestra.ErrNotFound) {
		t.Errorf("a failed upload left a file: %v", err)
	}
}

// TestFilesUploadServerStopsEarly: the server answers before reading the
// body; Upload returns the server's error and its writer goroutine ends
// (goleak checks) even though the reader never ends.
func TestFilesUploadServerStopsEarly(t *testing.T) {
	t.Parallel()
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		http.Error(w, `{"message":"Illegal argument: nope"}`, http.StatusUnprocessableEntity)
	}, kestra.WithRetry(kestra.DefaultRetryPolicy))
	err := c.Files.Upload(t.Context(), "ns", "/endless", newGenReader(1<<62))
	if !errors.Is(err, kestra.ErrInvalid) {
		t.Fatalf("Upload: %v, want ErrInvalid", err)
	}
}

func TestFilesUploadCancel(t *testing.T) {
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err := env.c.Files.Upload(ctx, "ns", "/endless", newGenReader(1<<62))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Upload: %v, want context.DeadlineExceeded", err)
	}
}

// TestFilesUploadMultipart checks the request a real server parses: a
// multipart part named fileContent, a chunked (streamed) body.
func TestFilesUploadMultipart(t *testing.T) {
	t.Parallel()
	type seen struct {
		part, file, body string
		length           int64
	}
	got := make(chan seen, 1)
	_, c := newRawEnv(t, func(w http.ResponseWriter, r *http.Request) {
		var s seen
		s.length = r.ContentLength
		mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "multipart/form-data" {
			mr := multipart.NewReader(r.Body, params["boundary"])
			if p, err := mr.NextPart(); err == nil {
				b, _ := io.ReadAll(p)
				s.part, s.file, s.body = p.FormName(), p.FileName(), string(b)
			}
		}
		got <- s
	}, kestra.WithRetry(kestra.DefaultRetryPolicy))
	if err := c.Files.Upload(t.Context(), "ns", "/d/report.csv", strings.NewReader("a,b\n1,2\n")); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s.part != "fileContent" || s.file != "report.csv" || s.body != "a,b\n1,2\n" || s.length != -1 {
		t.Errorf("server saw %+v, want part fileContent, file report.csv, the content, unknown length", s)
	}
}

const bigFileSize = 64 << 20

// TestFilesLargeRoundTrip streams 64 MiB up and down (the content is
// generated, never held by the test) and compares digests.
func TestFilesLargeRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB round trip")
	}
	t.Parallel()
	env := newStoreEnv(t, kestra.Config{})
	ctx := t.Context()
	up := sha256.New()
	if err := env.c.Files.Upload(ctx, "ns", "/big/blob.bin", io.TeeReader(newGenReader(bigFileSize), up)); err != nil {
		t.Fatal(err)
	}
	rc, err := env.c.Files.Download(ctx, "ns", "/big/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	down := sha256.New()
	n, err := io.Copy(down, rc)
	if err != nil {
		t.Fatal(err)
	}
	if n != bigFileSize || !bytes.Equal(up.Sum(nil), down.Sum(nil)) {
		t.Errorf("downloaded %d bytes, digest match %v; want %d bytes, identical", n, bytes.Equal(up.Sum(nil), down.Sum(nil)), bigFileSize)
	}
}

// BenchmarkFilesStream64MiB uploads and downloads 64 MiB through a server
// that keeps nothing, and reports the bytes allocated per operation (the
// client's and the test server's): far below the file size when both
// directions stream. It fails if an operation allocates half the file.
func BenchmarkFilesStream64MiB(b *testing.B) {
	_, c := newRawEnv(b, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			_, _ = io.Copy(io.Discard, r.Body)
		case http.MethodGet:
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = io.Copy(w, newGenReader(bigFileSize))
		}
	}, kestra.WithRetry(kestra.DefaultRetryPolicy))
	ctx := context.Background()
	measure := func(b *testing.B, op func() error) {
		b.SetBytes(bigFileSize)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		perOp := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
		b.ReportMetric(perOp/(1<<20), "MiB-alloc/op")
		if perOp > bigFileSize/2 {
			b.Fatalf("%.1f MiB allocated per 64 MiB transfer: the file is buffered", perOp/(1<<20))
		}
	}
	b.Run("upload", func(b *testing.B) {
		measure(b, func() error { return c.Files.Upload(ctx, "ns", "/blob.bin", newGenReader(bigFileSize)) })
	})
	b.Run("download", func(b *testing.B) {
		measure(b, func() error {
			rc, err := c.Files.Download(ctx, "ns", "/blob.bin")
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(io.Discard, rc)
			return err
		})
	})
}
