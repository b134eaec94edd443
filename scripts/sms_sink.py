#!/usr/bin/env python3
"""A stand-in SMS gateway for the demo (`make run`): accepts the webhook transport's JSON
(`{"to": ..., "body": ..., "sender": ...}`) on 127.0.0.1 and prints each message."""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = min(int(self.headers.get("Content-Length") or 0), 65536)
        try:
            message = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.send_response(400)
            self.end_headers()
            return
        print("\n[SMS to %s from %s]\n%s\n" % (message.get("to"), message.get("sender"),
                                               message.get("body")), file=sys.stderr, flush=True)
        body = json.dumps({"id": "sink-%d" % id(message)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8071)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
