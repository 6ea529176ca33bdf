package emulator

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"
)

func (ts *testServer) upload(ns, path, content string) response {
	ts.t.Helper()
	body, ct := multipartBody(ts.t, nil, map[string][2]string{"fileContent": {"f", content}})
	return ts.do("POST", "/api/v1/main/namespaces/"+ns+"/files?path="+path, body, header{"Content-Type": ct})
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
