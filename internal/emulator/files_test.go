package emulator

import (
	"archive/zip"
	"bytes"
	"io"
	"net/url"
	"path"
	"strings"
	"testing"
)

// upload sends content as the file p of ns, its part named after the
// file, as the UI and the SDK do.
func (ts *testServer) upload(ns, p, content string) response {
	ts.t.Helper()
	return ts.uploadAs(ns, p, path.Base(p), content)
}

// uploadAs is upload with the part's file name given.
func (ts *testServer) uploadAs(ns, p, filename, content string) response {
	ts.t.Helper()
	body, ct := multipartBody(ts.t, nil, map[string][2]string{"fileContent": {filename, content}})
	return ts.do("POST", "/api/v1/main/namespaces/"+ns+"/files?path="+url.QueryEscape(p), body, header{"Content-Type": ct})
}

func TestNamespaceFiles(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	const base = "/api/v1/main/namespaces/company.team/files"
	if r := ts.upload("company.team", "/scripts/a.py", "print(1)"); r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	r := ts.get(base + "?path=/scripts/a.py")
	if r.status != 200 || string(r.body) != "print(1)" || r.header.Get("Content-Type") != "application/octet-stream" || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("download: %d %q %v", r.status, r.body, r.header)
	}
	assertJSONError(t, ts.get(base+"?path=/nope"), 404, "Not Found: ")

	root := ts.get(base + "/directory?path=/").jsonArray(t)
	if len(root) != 1 || root[0].(map[string]any)["type"] != "Directory" || root[0].(map[string]any)["fileName"] != "scripts" {
		t.Errorf("root listing = %v", root)
	}
	dir := ts.get(base + "/directory?path=/scripts").jsonArray(t)
	if len(dir) != 1 || dir[0].(map[string]any)["size"] != 8.0 || dir[0].(map[string]any)["type"] != "File" {
		t.Errorf("dir listing = %v", dir)
	}
	if st := ts.get(base + "/stats?path=/scripts/a.py").json(t); st["fileName"] != "a.py" || st["type"] != "File" {
		t.Errorf("stats = %v", st)
	}
	if r := ts.do("POST", base+"/directory?path=/empty/sub", nil, nil); r.status != 200 {
		t.Errorf("mkdir: %d", r.status)
	}
	if r := ts.do("PUT", base+"?from=/scripts/a.py&to=/scripts/b.py", nil, nil); r.status != 200 {
		t.Errorf("move: %d %s", r.status, r.body)
	}
	if r := ts.get(base + "?path=/scripts/b.py"); string(r.body) != "print(1)" {
		t.Errorf("moved content: %q", r.body)
	}
	assertJSONError(t, ts.do("PUT", base+"?from=/missing&to=/x", nil, nil), 404, "Not Found: ")

	// Zip upload is extracted.
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("z/one.txt")
	_, _ = w.Write([]byte("1"))
	_ = zw.Close()
	if r := ts.upload("company.team", "/bundle.zip", zbuf.String()); r.status != 200 {
		t.Fatalf("zip upload: %d %s", r.status, r.body)
	}
	if r := ts.get(base + "?path=/z/one.txt"); string(r.body) != "1" {
		t.Errorf("extracted: %d %q", r.status, r.body)
	}

	exp := ts.get(base + "/export")
	zr, err := zip.NewReader(bytes.NewReader(exp.body), int64(len(exp.body)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		rc, _ := f.Open()
		_, _ = io.ReadAll(rc)
		rc.Close()
	}
	if !names["scripts/b.py"] || !names["z/one.txt"] {
		t.Errorf("export = %v", names)
	}

	if r := ts.do("DELETE", base+"?path=/scripts", nil, nil); r.status != 200 {
		t.Errorf("delete: %d", r.status)
	}
	assertJSONError(t, ts.get(base+"?path=/scripts/b.py"), 404, "Not Found: ")

	// A /_flows/ path imports a flow.
	if r := ts.upload("company.team", "/_flows/hello.yaml", helloFlow); r.status != 200 {
		t.Fatalf("flow import: %d %s", r.status, r.body)
	}
	if ts.FlowCount() != 1 {
		t.Errorf("FlowCount = %d", ts.FlowCount())
	}
}

func zipOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// A part whose file name ends in .zip is extracted at the namespace root,
// entry by entry, whatever the path; a /_flows/ entry is imported as a
// flow (NamespaceFileController#innerCreateNamespaceFile, Kestra 1.3.19
// and 2.0.0-SNAPSHOT).
func TestZipUploadExtractsAtRoot(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	const base = "/api/v1/main/namespaces/company.team/files"
	z := zipOf(t, map[string]string{"z/one.txt": "1", "top.txt": "2", "_flows/hello.yml": helloFlow})
	if r := ts.upload("company.team", "/deep/dir/bundle.ZIP", z); r.status != 200 {
		t.Fatalf("zip upload: %d %s", r.status, r.body)
	}
	for p, want := range map[string]string{"/z/one.txt": "1", "/top.txt": "2"} {
		if r := ts.get(base + "?path=" + p); r.status != 200 || string(r.body) != want {
			t.Errorf("%s: %d %q", p, r.status, r.body)
		}
	}
	for _, p := range []string{"/deep/dir/z/one.txt", "/deep", "/deep/dir/bundle.ZIP"} {
		if r := ts.get(base + "/stats?path=" + p); r.status != 404 {
			t.Errorf("%s exists: %d %s", p, r.status, r.body)
		}
	}
	if ts.FlowCount() != 1 {
		t.Errorf("FlowCount = %d, want the zipped flow imported", ts.FlowCount())
	}
	// What is not a zip holds no entry: nothing is stored, and the upload
	// succeeds (ZipInputStream#getNextEntry returns null).
	if r := ts.upload("company.team", "/fake.zip", "not a zip"); r.status != 200 {
		t.Fatalf("non-zip .zip upload: %d %s", r.status, r.body)
	}
	if r := ts.get(base + "/stats?path=/fake.zip"); r.status != 404 {
		t.Errorf("a non-zip .zip was stored: %d", r.status)
	}
	// The part's file name decides, not the path.
	if r := ts.uploadAs("company.team", "/kept.zip", "kept.bin", "not a zip"); r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if r := ts.get(base + "?path=/kept.zip"); string(r.body) != "not a zip" {
		t.Errorf("a part not named .zip was not stored as is: %d %q", r.status, r.body)
	}
}

// A file under /_flows/ is imported as a flow of the target namespace:
// its first "namespace: " line is rewritten, and only /_flows/<file> is
// accepted (NamespaceFileController#putNamespaceFile, Kestra 1.3.19 and
// 2.0.0-SNAPSHOT).
func TestFlowsFolderImport(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	src := strings.Replace(helloFlow, "namespace: company.team", "namespace: elsewhere", 1)
	if r := ts.upload("company.team", "/_flows/hello.yml", src); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	f := ts.get("/api/v1/main/flows/company.team/hello?source=true")
	if f.status != 200 || !strings.Contains(f.json(t)["source"].(string), "namespace: company.team\n") {
		t.Fatalf("imported flow: %d %s", f.status, f.body)
	}
	if r := ts.get("/api/v1/main/flows/elsewhere/hello"); r.status != 404 {
		t.Errorf("flow kept its namespace: %d", r.status)
	}
	assertJSONError(t, ts.upload("company.team", "/_flows/sub/hello.yml", helloFlow), 422,
		"Illegal argument: Invalid flow file path: /_flows/sub/hello.yml")
	assertJSONError(t, ts.get("/api/v1/main/namespaces/company.team/files?path=/_flows/hello.yml"), 422,
		"Illegal argument: Forbidden path: /_flows/hello.yml")
}

// 1.3 stores "a b.txt" as "a+b.txt" (URLEncoder then URI#getPath,
// NamespaceFileController 1.3.19) for every call, so the same path finds
// it again; 2.0 keeps the space (toFileUri, 2.0.0-SNAPSHOT).
func TestFileNameWithSpace(t *testing.T) {
	t.Parallel()
	for _, v := range []Version{Version13, Version20} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, WithVersion(v))
			const base = "/api/v1/main/namespaces/company.team/files"
			if r := ts.upload("company.team", "/a b.txt", "x"); r.status != 200 {
				t.Fatalf("upload: %d %s", r.status, r.body)
			}
			want := "a b.txt"
			if v == Version13 {
				want = "a+b.txt"
			}
			dir := ts.get(base + "/directory?path=/").jsonArray(t)
			if len(dir) != 1 || dir[0].(map[string]any)["fileName"] != want {
				t.Errorf("listing = %v, want %s", dir, want)
			}
			if r := ts.get(base + "?path=" + url.QueryEscape("/a b.txt")); r.status != 200 || string(r.body) != "x" {
				t.Errorf("download by the same path: %d %q", r.status, r.body)
			}
		})
	}
}

// Kestra extracts an upload whose file name ends in .zip, whatever the path,
// each entry from the namespace root, and imports entries under /_flows/
// into the namespace; other uploads are stored as they are (Kestra 2.0
// webserver/src/main/java/io/kestra/webserver/controllers/api/NamespaceFileController.java,
// innerCreateNamespaceFile and putNamespaceFile).
func TestNamespaceFileUploadZipByFileName(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	const base = "/api/v1/main/namespaces/company.team/files"
	other := strings.Replace(helloFlow, "id: hello", "id: imported", 1)
	other = strings.Replace(other, "namespace: company.team", "namespace: elsewhere", 1)
	zipped := zipOf(t, map[string]string{"z/one.txt": "1", "_flows/imported.yaml": other})

	// The name says zip, the path does not: extracted from the root.
	if r := ts.uploadAs("company.team", "/deep/dir/x.bin", "ARCHIVE.ZIP", zipped); r.status != 200 {
		t.Fatalf("zip upload: %d %s", r.status, r.body)
	}
	if r := ts.get(base + "?path=/z/one.txt"); r.status != 200 || string(r.body) != "1" {
		t.Errorf("/z/one.txt: %d %q", r.status, r.body)
	}
	if r := ts.get(base + "?path=/deep/dir/z/one.txt"); r.status != 404 {
		t.Errorf("extracted under the upload path: %d", r.status)
	}
	f := ts.get("/api/v1/main/flows/company.team/imported?source=true")
	if f.status != 200 {
		t.Fatalf("flow from the zip not imported into the namespace: %d %s", f.status, f.body)
	}
	if src, _ := f.json(t)["source"].(string); !strings.Contains(src, "namespace: company.team\n") {
		t.Errorf("imported source = %q", src)
	}

	// The path says zip, the name does not: stored as it is.
	if r := ts.uploadAs("company.team", "/kept.zip", "file", zipped); r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if r := ts.get(base + "?path=/kept.zip"); r.status != 200 || string(r.body) != zipped {
		t.Errorf("/kept.zip: %d, %d bytes", r.status, len(r.body))
	}

	// A flow one level under /_flows/ only.
	assertJSONError(t, ts.upload("company.team", "/_flows/a/b.yaml", helloFlow), 422, "Illegal argument: Invalid flow file path: /_flows/a/b.yaml")
}
