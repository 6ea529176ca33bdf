package emulator

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
	"testing"
)

// upload sends content to path as a file named after the path's last
// segment, as the SDK does.
func (ts *testServer) upload(ns, p, content string) response {
	ts.t.Helper()
	return ts.uploadNamed(ns, p, path.Base(p), content)
}

// uploadNamed sends content to path as a file named filename.
func (ts *testServer) uploadNamed(ns, p, filename, content string) response {
	ts.t.Helper()
	body, ct := multipartBody(ts.t, nil, map[string][2]string{"fileContent": {filename, content}})
	return ts.do("POST", "/api/v1/main/namespaces/"+ns+"/files?path="+p, body, header{"Content-Type": ct})
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
	if r := ts.uploadNamed("company.team", "/deep/dir/x.bin", "ARCHIVE.ZIP", zipped); r.status != 200 {
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
	if r := ts.uploadNamed("company.team", "/kept.zip", "file", zipped); r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	if r := ts.get(base + "?path=/kept.zip"); r.status != 200 || string(r.body) != zipped {
		t.Errorf("/kept.zip: %d, %d bytes", r.status, len(r.body))
	}

	// A flow one level under /_flows/ only.
	assertJSONError(t, ts.upload("company.team", "/_flows/a/b.yaml", helloFlow), 422, "Illegal argument: Invalid flow file path: /_flows/a/b.yaml")
}
