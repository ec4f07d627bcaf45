"""Who may see which admin pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

STAFF_ROLES = ("admin", "researcher")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only logged-in admins."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only logged-in researchers and admins; company contacts get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.role not in STAFF_ROLES:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def company_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only logged-in company contacts (they see their own organisation's briefings, nothing else)."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.role != "company_contact" or current_user.organisation_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
