"""Who is asking: sign-in with sessions (Flask-Login), API tokens, roles, CSRF and the audit page.

- Pages: `/login` (a failed sign-in is audited; too many for a name or an address within 15 minutes
  answer 429), `/logout` (POST), `/admin/audit` (admins).
- Every POST form carries a CSRF token (Flask-WTF); a form without it is refused with 400. The API
  (`/api/`) is exempt because its writes take only `Authorization: Bearer TOKEN` — never the
  session cookie, which a foreign page could make a browser send.
- `require(role)` guards a write: without credentials a page sends the browser to `/login` and the
  API answers 401; with the wrong role both answer 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from magsearch.accounts import Accounts, User

from .common import library

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()
login_manager = LoginManager()


class WebUser(UserMixin):
    """A signed-in user as Flask-Login sees it."""

    def __init__(self, user: User, via: str) -> None:
        self.user = user
        self.via = via  # "session" or "token"

    def get_id(self) -> str:
        return str(self.user.id)

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str:
        return self.user.role

    def can(self, role: str) -> bool:
        return self.user.can(role)


def accounts() -> Accounts:
    holder = current_app.extensions["magsearch"]
    return holder.accounts(library())


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to do that."
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
    app.jinja_env.globals.update(sees_restricted=sees_restricted, signed_in=signed_in)


@login_manager.user_loader
def _load_user(user_id: str) -> WebUser | None:
    if not user_id.isdigit():
        return None
    user = accounts().user_by_id(int(user_id))
    if user is None or user.disabled:
        return None  # a disabled account's sessions end at once
    return WebUser(user, "session")


@login_manager.request_loader
def _load_from_token(req: Any) -> WebUser | None:
    """`Authorization: Bearer TOKEN`, on the API only."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = accounts().user_for_token(token)
    return WebUser(user, "token") if user else None


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if request.path.startswith("/api/"):
        abort(401, "a valid API token is required: Authorization: Bearer TOKEN")
    return redirect(url_for("auth.login", next=_local_path(request.full_path)))


def signed_in() -> WebUser | None:
    user = current_user
    return user if getattr(user, "is_authenticated", False) else None


def sees_restricted() -> bool:
    """Whether whoever asks may see restricted documents (a signed-in archivist or admin)."""
    user = signed_in()
    return bool(user and user.can("archivist"))


def actor() -> str:
    """Who a write is attributed to in the audit log."""
    user = signed_in()
    return f"{user.name}" + (" (token)" if user.via == "token" else "") if user else "anonymous"


def require(role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only users holding `role` (an admin holds every role). On the API, only a token counts."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = signed_in()
            api = request.path.startswith("/api/")
            if user is None or (api and user.via != "token"):
                return login_manager.unauthorized()
            if not user.can(role):
                abort(403, f"this needs the {role} role; {user.name} is {user.role}")
            g.magsearch_actor = actor()
            return view(*args, **kwargs)

        return guarded

    return wrap


# -- pages -----------------------------------------------------------------------------------------
class LoginForm(FlaskForm):
    name = StringField("User name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PostForm(FlaskForm):
    """A form with nothing but its CSRF token (sign out, and buttons that post)."""


def _local_path(target: str | None) -> str:
    """`target` when it is a path on this site, else the home page (no open redirects)."""
    if not target:
        return url_for("pages.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target.rstrip("?") or url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error = ""
    status = 200
    if form.validate_on_submit():
        name = form.name.data.strip().lower()
        address = request.remote_addr or ""
        acc = accounts()
        if acc.signin_blocked(name, address):
            error = "Too many failed sign-ins: wait 15 minutes and try again."
            status = 429
        else:
            user = acc.authenticate(name, form.password.data)
            if user is None:
                acc.audit("anonymous", "signin-failed", name, address=address)
                error = "Wrong user name or password, or the account is disabled."
                status = 401
            else:
                login_user(WebUser(user, "session"))
                acc.audit(user.name, "signin", user.name, address=address)
                return redirect(_local_path(request.args.get("next")))
    elif request.method == "POST":
        status = 400
        error = "Please fill in both fields."
    response = current_app.make_response(
        (render_template("login.html", form=form, error=error), status)
    )
    if status == 429:
        response.headers["Retry-After"] = "900"
    return response


@bp.post("/logout")
def logout() -> Any:
    user = signed_in()
    if user is not None:
        accounts().audit(user.name, "signout", user.name)
    logout_user()
    return redirect(url_for("pages.home"))


@bp.get("/admin/audit")
@require("admin")
def audit_page() -> str:
    action = request.args.get("action", "")[:40]
    target = request.args.get("target", "")[:80]
    rows = accounts().audit_log(500, action=action, target=target)
    return render_template("audit.html", rows=rows, action=action, target=target)
