#!/usr/bin/env python3
"""An OpenAI-compatible chat-completions server for scripts/bench.sh: a provider whose calls can be counted and timed.

  python3 scripts/fake-llm.py LATENCY_SECONDS [PORT]     PORT 0 (the default) picks a free port

Prints the port it listens on (one line) once it accepts connections, then serves until it is stopped:
  POST /v1/chat/completions  answers "ECHO[<sha>] <first 12 words of the user message>" after LATENCY_SECONDS;
  POST /_reset               forgets the counts and the log (after a warm-up)
  GET  /_stats               {"total", "inflight_max", "log": [{"t", "prompt_head"}]}, t in Unix seconds when the
                             request arrived, prompt_head the first 80 characters of the user message.
The answers and /_stats have the shape of the DBOS peer's fake, so the two benchmarks read alike.
"""
import hashlib
import http.server
import json
import socketserver
import sys
import threading
import time

LATENCY = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
lock = threading.Lock()
state = {"total": 0, "inflight": 0, "inflight_max": 0, "log": []}


def user_text(request):
    text = ""
    for message in request.get("messages") or []:
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
            text = content if isinstance(content, str) else json.dumps(content)
    return text


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/_stats"):
            with lock:
                self.send_json(200, {k: state[k] for k in ("total", "inflight_max", "log")})
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.startswith("/_reset"):  # a benchmark's warm-up is not counted
            with lock:
                state.update(total=0, inflight_max=state["inflight"], log=[])
            return self.send_json(200, {})
        if not self.path.endswith("/chat/completions"):
            return self.send_json(404, {"error": {"message": "not found"}})
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return self.send_json(400, {"error": {"message": "the body is not JSON"}})
        prompt = user_text(request)
        with lock:
            state["total"] += 1
            state["inflight"] += 1
            state["inflight_max"] = max(state["inflight_max"], state["inflight"])
            state["log"].append({"t": time.time(), "prompt_head": prompt[:80]})
        try:
            time.sleep(LATENCY)
            digest = hashlib.sha256(prompt.encode()).hexdigest()[:16]
            text = f"ECHO[{digest}] " + " ".join(prompt.split()[:12])
            words_in, words_out = len(prompt.split()), len(text.split())
            self.send_json(200, {
                "id": "chatcmpl-" + digest, "object": "chat.completion", "created": int(time.time()),
                "model": request.get("model", "fake-model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": words_in, "completion_tokens": words_out, "total_tokens": words_in + words_out}})
        finally:
            with lock:
                state["inflight"] -= 1


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a burst of the benchmark's concurrent calls must not be refused at accept


if __name__ == "__main__":
    server = Server(("127.0.0.1", PORT), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
