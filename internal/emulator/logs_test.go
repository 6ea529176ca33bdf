package emulator

import (
	"regexp"
	"strings"
	"testing"
)

func TestLogs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.createFlow(failFlow)
	ts.createFlow(helloFlow)
	id := ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string)
	other := ts.execute("company.team", "hello", "wait=true", nil).json(t)["id"].(string)

	all := ts.get("/api/v1/main/logs/" + id).jsonArray(t)
	if len(all) != 2 {
		t.Fatalf("logs = %v", all)
	}
	first := all[0].(map[string]any)
	for _, k := range []string{"namespace", "flowId", "taskId", "executionId", "taskRunId", "attemptNumber", "timestamp", "level", "message"} {
		if _, ok := first[k]; !ok {
			t.Errorf("log entry without %s: %v", k, first)
		}
	}
	if l := ts.get("/api/v1/main/logs/" + id + "?filters[level][GREATER_THAN_OR_EQUAL_TO]=WARN").jsonArray(t); len(l) != 1 {
		t.Errorf("level filter = %v", l)
	}
	if l := ts.get("/api/v1/main/logs/" + id + "?filters[taskId][EQUALS]=log").jsonArray(t); len(l) != 1 {
		t.Errorf("taskId filter = %v", l)
	}
	if l := ts.get("/api/v1/main/logs/nope").jsonArray(t); len(l) != 0 {
		t.Errorf("unknown execution logs = %v", l)
	}

	dl := ts.get("/api/v1/main/logs/" + id + "/download")
	if dl.status != 200 || dl.header.Get("Content-Type") != "text/plain" || !strings.Contains(dl.header.Get("Content-Disposition"), id+".log") {
		t.Fatalf("download: %d %v", dl.status, dl.header)
	}
	lines := strings.Split(strings.TrimSuffix(string(dl.body), "\n"), "\n")
	re := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\S+Z (INFO|ERROR) .+$`)
	if len(lines) != 2 || !re.MatchString(lines[0]) || !strings.HasSuffix(lines[1], "ERROR boom value-company.team") {
		t.Errorf("download lines = %q", lines)
	}
	if dl.header.Get("Cache-Control") != "" {
		t.Error("Cache-Control on a finished execution's logs")
	}
	assertJSONError(t, ts.get("/api/v1/main/logs/nope/download"), 404, "Not Found")

	page := ts.get("/api/v1/main/logs/search?filters[executionId][EQUALS]=" + id + "&size=1").json(t)
	if page["total"] != 2.0 || len(page["results"].([]any)) != 1 {
		t.Errorf("search = %v", page)
	}
	if p := ts.get("/api/v1/main/logs/search?filters[level][EQUALS]=ERROR").json(t); p["total"] != 1.0 {
		t.Errorf("search by level = %v", p)
	}

	if r := ts.do("DELETE", "/api/v1/main/logs/"+id+"?minLevel=ERROR", nil, nil); r.status != 200 || len(r.body) != 0 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if n := ts.LogCount(id); n != 1 {
		t.Errorf("after delete minLevel=ERROR: %d logs", n)
	}
	if r := ts.do("DELETE", "/api/v1/main/logs/company.team/hello", nil, nil); r.status != 200 {
		t.Errorf("delete by flow: %d", r.status)
	}
	if n := ts.LogCount(other); n != 0 {
		t.Errorf("after delete by flow: %d logs", n)
	}
}

func TestLogs13(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithVersion(Version13))
	ts.createFlow(failFlow)
	id := ts.execute("company.team", "failing", "wait=true", nil).json(t)["id"].(string)
	if l := ts.get("/api/v1/main/logs/" + id + "?minLevel=ERROR").jsonArray(t); len(l) != 1 {
		t.Errorf("minLevel = %v", l)
	}
	if l := ts.get("/api/v1/main/logs/" + id + "?taskId=log").jsonArray(t); len(l) != 1 {
		t.Errorf("taskId = %v", l)
	}
}

func TestInputTypes(t *testing.T) {
	t.Parallel()
	src := "id: b\nnamespace: a\ninputs:\n  - id: x\n    type: NOPE\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
	v2 := newTestServer(t)
	assertJSONError(t, v2.do("POST", "/api/v1/main/flows", strings.NewReader(src), yamlHeader()), 422, "Invalid entity: Invalid type: NOPE")
	v13 := newTestServer(t, WithVersion(Version13))
	v13.createFlow(strings.Replace(src, "NOPE", "BOOLEAN", 1))
	f := v2.createFlow(strings.Replace(src, "NOPE", "bool", 1))
	if typ := f["inputs"].([]any)[0].(map[string]any)["type"]; typ != "BOOL" {
		t.Errorf("input type written as %v", typ)
	}
}
