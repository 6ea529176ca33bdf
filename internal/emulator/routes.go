package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// handlerFunc is a route handler; a returned error is written as a JsonError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, err)
		}
	})
}

// legacyRoots are the first path segments after /api/v1/ that mark a path
// without tenant; Kestra rewrites those to the main tenant.
var legacyRoots = map[string]bool{
	"flows": true, "executions": true, "logs": true, "namespaces": true, "kv": true,
	"taskruns": true, "triggers": true, "templates": true, "plugins": true, "stats": true,
	"metrics": true, "dashboards": true, "blueprints": true, "apps": true,
}

func (s *Server) routes() {
	const p = "/api/v1/{tenant}"
	v13 := s.cfg.version == Version13

	s.mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("pong"))
	})
	s.handle("GET /api/v1/configs", s.getConfigs)

	// Flows (§1).
	s.handle("POST "+p+"/flows", s.createFlow)
	s.handle("GET "+p+"/flows/search", s.searchFlows)
	s.handle("POST "+p+"/flows/validate", s.validateFlows)
	s.handle("POST "+p+"/flows/bulk", s.bulkFlows)
	s.handle("POST "+p+"/flows/import", s.importFlows)
	s.handle("GET "+p+"/flows/distinct-namespaces", s.distinctNamespaces)
	s.handle("GET "+p+"/flows/{namespace}/{id}/dependencies", s.flowDependencies)
	s.handle("GET "+p+"/flows/{namespace}", s.listFlows)
	s.handle("POST "+p+"/flows/{namespace}", s.bulkNamespaceFlows)
	s.handle("GET "+p+"/flows/{namespace}/{id}", s.getFlow)
	s.handle("PUT "+p+"/flows/{namespace}/{id}", s.updateFlow)
	s.handle("DELETE "+p+"/flows/{namespace}/{id}", s.deleteFlow)
	s.handle("GET "+p+"/flows/{namespace}/{id}/revisions", s.flowRevisions)

	// Executions (§2).
	s.handle("POST "+p+"/executions/{namespace}/{id}", s.createExecution)
	s.handle("GET "+p+"/executions/search", s.searchExecutions)
	s.handle("GET "+p+"/executions", s.executionsByFlow)
	s.handle("DELETE "+p+"/executions/by-ids", s.deleteExecutionsByIDs)
	s.handle("DELETE "+p+"/executions/by-query", s.deleteExecutionsByQuery)
	s.handle("DELETE "+p+"/executions/kill/by-ids", s.killExecutionsByIDs)
	s.handle("DELETE "+p+"/executions/kill/by-query", s.killExecutionsByQuery)
	for name := range bulkActions {
		s.handle("POST "+p+"/executions/"+name+"/by-ids", s.bulkActionHandler(name, false))
		s.handle("POST "+p+"/executions/"+name+"/by-query", s.bulkActionHandler(name, true))
	}
	s.handle("GET "+p+"/executions/{executionId}", s.getExecution)
	s.handle("DELETE "+p+"/executions/{executionId}", s.deleteExecution)
	s.handle("GET "+p+"/executions/{executionId}/follow", s.followExecution)
	s.handle("GET "+p+"/executions/{executionId}/file", s.executionFile)
	s.handle("GET "+p+"/executions/{executionId}/file/metas", s.executionFileMetas)
	for _, m := range []string{"GET", "POST", "PUT"} {
		if m == "POST" && !v13 {
			continue // served with eval in a task run, below
		}
		s.handle(m+" "+p+"/executions/webhook/{namespace}/{id}/{key}", s.webhook)
	}
	actions := "/actions"
	if v13 {
		actions = ""
	}
	s.handle("DELETE "+p+"/executions/{executionId}"+actions+"/kill", s.killExecution)
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/restart", s.restartExecution)
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/replay", s.replayExecution)
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/resume", s.resumeExecution)
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/pause", s.pauseExecution)
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/resume-from-breakpoint", s.resumeFromBreakpoint)
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/change-status", s.changeExecutionStatus)
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/force-run", s.forceRunExecution)
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/unqueue", s.unqueueExecution)
	if v13 {
		s.handle("POST "+p+"/executions/{executionId}/eval/{taskRunId}", s.evalExpression) // 1.3: in a task run only
	} else {
		s.handle("POST "+p+"/executions/{executionId}/actions/eval", s.evalExpression)
		// .../{executionId}/actions/eval/{taskRunId} and the POST webhook
		// route overlap for ServeMux (neither is more specific): one
		// pattern serves both.
		s.handle("POST "+p+"/executions/{a}/{b}/{c}/{d}", func(w http.ResponseWriter, r *http.Request) error {
			switch a, b, c, d := r.PathValue("a"), r.PathValue("b"), r.PathValue("c"), r.PathValue("d"); {
			case a == "webhook":
				r.SetPathValue("namespace", b)
				r.SetPathValue("id", c)
				r.SetPathValue("key", d)
				return s.webhook(w, r)
			case b == "actions" && c == "eval":
				r.SetPathValue("executionId", a)
				r.SetPathValue("taskRunId", d)
				return s.evalExpression(w, r)
			}
			return errNotFound("")
		})
	}
	s.handle("POST "+p+"/executions/{executionId}"+actions+"/labels", s.setExecutionLabels)

	// Triggers (TriggerController).
	s.handle("GET "+p+"/triggers/search", s.searchTriggers)
	s.handle("GET "+p+"/triggers/{namespace}/{flowId}", s.searchTriggersForFlow)
	s.handle("POST "+p+"/triggers/{namespace}/{flowId}/{triggerId}/unlock", s.unlockTrigger)
	s.handle("POST "+p+"/triggers/{namespace}/{flowId}/{triggerId}/restart", s.restartTrigger)
	if v13 {
		s.handle("PUT "+p+"/triggers", s.setTriggerDisabled)
	} else {
		s.handle("PUT "+p+"/triggers/set-disabled", s.setTriggerDisabled)
	}

	// Logs (§3.2, §4).
	s.handle("GET "+p+"/logs/search", s.searchLogs)
	s.handle("GET "+p+"/logs/{executionId}", s.listLogs)
	s.handle("GET "+p+"/logs/{executionId}/download", s.downloadLogs)
	s.handle("GET "+p+"/logs/{executionId}/follow", s.followLogs)
	s.handle("DELETE "+p+"/logs/{executionId}", s.deleteLogs)
	s.handle("DELETE "+p+"/logs/{namespace}/{flowId}", s.deleteFlowLogs)

	// KV (§5).
	s.handle("GET "+p+"/kv", s.listKV)
	s.handle("PUT "+p+"/namespaces/{namespace}/kv/{key}", consumes("text/plain", s.putKV))
	s.handle("GET "+p+"/namespaces/{namespace}/kv/{key}", s.getKV)
	s.handle("DELETE "+p+"/namespaces/{namespace}/kv/{key}", s.deleteKV)
	s.handle("DELETE "+p+"/namespaces/{namespace}/kv", s.bulkDeleteKV)
	s.handle("GET "+p+"/namespaces/{namespace}/kv/inheritance", s.inheritedKV)
	if v13 {
		s.handle("GET "+p+"/namespaces/{namespace}/kv", s.listNamespaceKV)
	}

	// Namespace files (§5).
	s.handle("POST "+p+"/namespaces/{namespace}/files", s.uploadFile)
	s.handle("GET "+p+"/namespaces/{namespace}/files", s.downloadFile)
	s.handle("PUT "+p+"/namespaces/{namespace}/files", s.moveFile)
	s.handle("DELETE "+p+"/namespaces/{namespace}/files", s.deleteFile)
	s.handle("GET "+p+"/namespaces/{namespace}/files/directory", s.listDirectory)
	s.handle("POST "+p+"/namespaces/{namespace}/files/directory", s.createDirectory)
	s.handle("GET "+p+"/namespaces/{namespace}/files/stats", s.fileStats)
	s.handle("GET "+p+"/namespaces/{namespace}/files/export", s.exportFiles)

	s.mux.HandleFunc("/", s.notFound)
}

// notFound answers requests no route matched: 405 when the path exists
// under another method, else Kestra's generic 404.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := s.mux.Handler(probe); pat != "" && pat != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeJSONError(w, r, http.StatusMethodNotAllowed,
			"Method Not Allowed: Method ["+r.Method+"] not allowed for URI ["+r.URL.Path+"]. Allowed methods: ["+strings.Join(allowed, ", ")+"]", nil)
		return
	}
	writeJSONError(w, r, http.StatusNotFound, "Not Found", nil)
}

// tenantOf returns the tenant of a routed request.
func tenantOf(r *http.Request) string {
	if t := r.PathValue("tenant"); t != "" {
		return t
	}
	return "main"
}

// rewriteTenant applies Kestra's tenant aliasing and validation to an
// /api/v1 path. It returns the rewritten path, or an error for a tenant
// that is not allowed.
func (s *Server) rewriteTenant(path string) (string, *apiError) {
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	if !ok {
		return path, nil
	}
	first, _, _ := strings.Cut(rest, "/")
	switch {
	case first == "configs" || first == "":
		return path, nil
	case s.specRoots[first]:
		return path, nil // a route without tenant, such as /api/v1/users
	case legacyRoots[first]:
		return "/api/v1/main/" + rest, nil
	case !s.cfg.tenants[first]:
		if len(s.cfg.tenants) == 1 && s.cfg.tenants["main"] {
			return "", errBadRequest("Tenant must be 'main' for OSS version")
		}
		return "", errBadRequest("Tenant '" + first + "' is not allowed")
	}
	return path, nil
}
