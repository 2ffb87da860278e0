# gunicorn settings of the image (CMD gunicorn -c gunicorn.conf.py). WEB_CONCURRENCY overrides the
# worker count; threads let a worker serve another request while one waits on PostgreSQL.
import os

bind = "0.0.0.0:5000"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 60
graceful_timeout = 30
# Behind the reverse proxy: it is the one that may set X-Forwarded-*; the app reads them through
# TRUSTED_PROXIES (werkzeug's ProxyFix), so gunicorn itself trusts none.
forwarded_allow_ips = ""
# Access and error lines as JSON like the app's (portal/core/logs.py): query strings, ID numbers
# and phone numbers are scrubbed by the record factory the app installs in every worker.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "portal.core.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": []},  # the app adds its JSON handler (portal.core.logs.json_lines)
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
}
