"""The API tests: the live app on 127.0.0.1 served by a real HTTP server in a thread."""
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # thousands of generated requests: only failures matter
        pass


@pytest.fixture
def live_server(clean_app):
    server = make_server("127.0.0.1", 0, clean_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
