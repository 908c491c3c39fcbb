"""Security headers on every response, and what each kind of page may load and who may frame it.

| responses | headers |
|---|---|
| all | ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: strict-origin-when-cross-origin``; ``Strict-Transport-Security`` when ``ADMIN_COOKIE_SECURE`` (the deployment is HTTPS) |
| the desk, ``/admin`` | a CSP that allows no script and only its own stylesheet; ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``; ``Referrer-Policy: same-origin`` |
| ``/help`` and the search box at ``/`` | a CSP that allows no script; ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` |
| ``/embed.js``, ``/api/``, ``/ws/``, ``/demo`` | nothing more: they run inside customers' pages, or are the sample of one, and a framing rule or a CSP there would break the widget where it is embedded |

Neither the desk nor the help pages run a script, so neither policy has a ``script-src``: with
``default-src 'none'`` no script runs, inline or not, whatever an FAQ or a question holds.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

# The desk's pages load their stylesheet and nothing else; its charts are inline SVG markup.
DESK_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
# The help pages keep their styles in a <style> element of the page (chat/help.py), hence
# 'unsafe-inline' for styles only; FAQ bodies may show images from the web (https) and links.
HELP_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts of the domain are not ours to decide


def page_policy(path: str) -> tuple[str, str] | None:
    """The CSP and Referrer-Policy of an HTML page of ours at ``path``, or None for everything else."""
    if path == "/admin" or path.startswith("/admin/"):
        return DESK_CSP, "same-origin"
    if path == "/" or path == "/help" or path.startswith("/help/"):
        return HELP_CSP, "strict-origin-when-cross-origin"
    return None


def add_headers(response: Response) -> Response:
    headers = response.headers
    policy = page_policy(request.path)
    if policy is not None:
        csp, referrer = policy
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", referrer)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config.get("ADMIN_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register(app: Flask) -> None:
    """Add the headers to every response of ``app``, error pages included."""
    app.after_request(add_headers)
