"""A requester's survey on another site, for the browser journeys: a tiny HTTP server on
127.0.0.1 (another origin than the live server's ``localhost``) serving a survey page that
does what MTurk-era survey tools do with the parameters they receive. It records the query
of every page load, so tests can assert exactly what the platform passed."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# /post-back: posts its answers to turkSubmitTo + "/mturk/externalSubmit" (MTurk's way).
# /code: cannot post back; shows a completion code at its end (Prolific's way).
SURVEY_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Street names survey</title></head>
<body>
<h1>Street names survey</h1>
<p id="mode"></p>
<form id="survey" method="post">
  <input type="hidden" name="assignmentId" id="assignmentId">
  <label for="street">Your favourite street name</label>
  <input name="street" id="street">
  <button type="submit">Finish the survey</button>
</form>
<p id="done" hidden>Thank you! Your completion code is <strong id="code">%(code)s</strong></p>
<script>
  var params = new URLSearchParams(location.search);
  var assignmentId = params.get("assignmentId");
  var form = document.getElementById("survey");
  document.getElementById("assignmentId").value = assignmentId;
  form.action = params.get("turkSubmitTo") + "/mturk/externalSubmit";
  if (assignmentId === "ASSIGNMENT_ID_NOT_AVAILABLE") {
    document.getElementById("mode").textContent = "Preview: accept the task to take part.";
    form.hidden = true;
  } else {
    document.getElementById("mode").textContent = "Welcome, " + params.get("workerId") + ".";
  }
  if (%(shows_code)s) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      form.hidden = true;
      document.getElementById("done").hidden = false;
    });
  }
</script>
</body></html>
"""


class SurveyServer:
    def __init__(self, completion_code: str = "MAPS-7731") -> None:
        self.queries: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path not in ("/post-back", "/code"):
                    self.send_error(404)
                    return
                server.queries.append({k: v[0] for k, v in parse_qs(parts.query).items()})
                body = SURVEY_PAGE % {
                    "code": completion_code,
                    "shows_code": "true" if parts.path == "/code" else "false",
                }
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
