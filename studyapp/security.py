"""Security headers on every response: a content security policy without inline script, no framing,
no referrer (personal links carry their token in the path), and no caching of personal pages."""

from __future__ import annotations

from flask import Flask, Response, g, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
# E-mail HTML shown in the admin's sandboxed preview frames keeps its inline styles (mail clients need them).
MAIL_PREVIEW_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def allow_mail_preview_styles() -> None:
    """Let this response's page show e-mail HTML (inline styles) in a sandboxed frame."""
    g.mail_preview = True


def init_app(app: Flask) -> None:
    """Add the headers to every response of ``app``."""
    production = app.config["STUDYAPP_SETTINGS"].is_production

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy", MAIL_PREVIEW_POLICY if g.get("mail_preview") else CONTENT_SECURITY_POLICY
        )
        # never to other sites (personal links hold a secret), but to this one: over HTTPS, Flask-WTF
        # refuses a form post whose Referer is not this site, so "no-referrer" would refuse every login
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/p/"):
            headers["Cache-Control"] = "no-store"
        return response
