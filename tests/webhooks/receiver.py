"""A webhook receiver for chidao, verified with the official `standardwebhooks` package:
the README's example ("Webhooks"), run by tests/webhooks/run.sh, which checks the two are the same.

    WEBHOOK_SECRET=whsec_... python3 receiver.py 8000

Each verified delivery is printed as one JSON line; a forged, altered or stale one gets 400.
"""
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError  # pip install standardwebhooks==1.1.0

hook = Webhook(os.environ["WEBHOOK_SECRET"])

class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = hook.verify(body, dict(self.headers))  # signature, and a timestamp within 5 min
        except WebhookVerificationError:
            self.send_response(400); self.end_headers(); return
        print(json.dumps({"id": self.headers["webhook-id"], **event}), flush=True)
        self.send_response(204); self.end_headers()

HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
