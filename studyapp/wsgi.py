"""The WSGI entry point for gunicorn in production: ``gunicorn studyapp.wsgi:app``.

Behind a reverse proxy set ``PROXY_COUNT`` to the number of proxies, so client addresses (for rate
limits and the audit log) and https links come from the ``X-Forwarded-*`` headers they set.
"""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix

from studyapp.app import create_app

app = create_app()
_proxies = app.config["STUDYAPP_SETTINGS"].proxy_count
if _proxies:
    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to add WSGI middleware
        app.wsgi_app, x_for=_proxies, x_proto=_proxies, x_host=_proxies
    )
