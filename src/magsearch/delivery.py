"""Sending alerts: a webhook (a POST of JSON) and e-mail (SMTP). No Flask; magsearch.alerts decides
what is due and records the outcome, this module only sends, or says in one line why it could not.

Webhooks go out only to http(s) addresses whose host name resolves to public addresses, every one
of them (no private, loopback, link-local, shared, reserved, multicast or unspecified address),
unless an admin allows networks with MAGSEARCH_WEBHOOK_ALLOW_NETWORKS (CIDRs, comma-separated). The
connection goes to the address that was checked (a name resolving elsewhere a second time cannot
redirect it), redirects are never followed, and connecting, the whole exchange and the answer read
are bounded (MAGSEARCH_WEBHOOK_TIMEOUT seconds, MAGSEARCH_WEBHOOK_MAX_RESPONSE bytes).

E-mail uses MAGSEARCH_SMTP_HOST, _PORT (587), _TLS (starttls, ssl or off), _USER, _PASSWORD, _FROM
and _TIMEOUT (seconds, 20).
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .alerts import AlertError, SavedSearch
from .cite import short_citation
from .config import Settings

USER_AGENT = "magsearch-alerts/1"
EMAIL_RE = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_MARK = re.compile(r"</?mark>")


class DeliveryError(Exception):
    """A send that failed (one line: what and why). It is retried later."""


# -- settings --------------------------------------------------------------------------------------
def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks an admin allows webhooks to reach although they are not public."""
    out = []
    for part in os.environ.get("MAGSEARCH_WEBHOOK_ALLOW_NETWORKS", "").split(","):
        if part.strip():
            try:
                out.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise AlertError(
                    f"MAGSEARCH_WEBHOOK_ALLOW_NETWORKS: {part.strip()[:60]!r} is not a network"
                ) from None
    return out


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str
    user: str
    password: str
    sender: str
    timeout: float


def smtp_settings() -> SmtpSettings:
    env = os.environ.get
    tls = (env("MAGSEARCH_SMTP_TLS", "") or "starttls").strip().lower()
    if tls not in ("starttls", "ssl", "off"):
        raise DeliveryError(f"MAGSEARCH_SMTP_TLS {tls[:20]!r}: use starttls, ssl or off")
    try:
        port = int(env("MAGSEARCH_SMTP_PORT", "") or (465 if tls == "ssl" else 587))
    except ValueError:
        raise DeliveryError("MAGSEARCH_SMTP_PORT must be a port number") from None
    return SmtpSettings(
        host=(env("MAGSEARCH_SMTP_HOST", "") or "").strip(),
        port=port,
        tls=tls,
        user=env("MAGSEARCH_SMTP_USER", "") or "",
        password=env("MAGSEARCH_SMTP_PASSWORD", "") or "",
        sender=(env("MAGSEARCH_SMTP_FROM", "") or f"magsearch@{socket.getfqdn()}").strip(),
        timeout=_env_float("MAGSEARCH_SMTP_TIMEOUT", 20.0),
    )


# -- checking addresses ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def check_webhook_url(url: str) -> Target:
    """The webhook's target with its checked addresses, or AlertError naming the address and the
    reason (one line)."""
    shown = url[:200]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise AlertError(f"webhook {shown!r}: only http and https addresses are allowed")
    if not parts.hostname:
        raise AlertError(f"webhook {shown!r}: no host name")
    if parts.username or parts.password:
        raise AlertError(f"webhook {shown!r}: no user name or password in the address")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise AlertError(f"webhook {shown!r}: the port is not a number") from None
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AlertError(f"webhook {shown!r}: {host!r} does not resolve ({exc})") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise AlertError(f"webhook {shown!r}: {host!r} does not resolve")
    allowed = allowed_networks()
    for address in addresses:
        why = _not_public(address, allowed)
        if why:
            where = f"{address} is" if address == host.strip("[]") else f"{host} is {address},"
            raise AlertError(
                f"webhook {shown!r}: {where} a {why} address (refused; an admin may allow a "
                "network with MAGSEARCH_WEBHOOK_ALLOW_NETWORKS)"
            )
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(parts.scheme, host, port, path, addresses)


def _not_public(address: str, allowed: list[Any]) -> str:
    """'' when webhooks may reach this address, else what kind of address it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in allowed):
        return ""
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:
        return "non-public"
    return ""


def check_email(address: str) -> str:
    if not EMAIL_RE.match(address):
        raise AlertError(f"e-mail address {address[:100]!r} is not an address")
    return address


# -- what is sent ----------------------------------------------------------------------------------
def payload(saved: SavedSearch, items: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """The JSON of a webhook call (and the content of an e-mail): the saved search and its new
    alerts, each with its stable id (a receiver may drop an id it has seen)."""
    base = settings.public_url.rstrip("/")
    return {
        "saved_search": {
            "id": saved.id,
            "name": saved.name,
            "query": saved.query,
            "filters": saved.filters,
            "sort": saved.sort,
            "url": f"{base}/search?{urlencode(saved.state(), doseq=True)}",
        },
        "alerts": [
            {
                "id": item["id"],
                "document": item["doc_id"],
                "version": item["version"],
                "title": item["doc"].title,
                "kind": item["doc"].kind.value,
                "date": item["doc"].date,
                "citation": short_citation(item["doc"]),
                "url": f"{base}/d/{quote(item['doc_id'])}",
                "version_url": f"{base}/d/{quote(item['doc_id'])}/v/{item['version']}",
                "snippet": _plain(item.get("snippet", "")),
                "matched_at": item["matched_at"],
            }
            for item in items
        ],
    }


def _plain(snippet: str) -> str:
    import html

    return html.unescape(_MARK.sub("", snippet))


# -- the webhook -----------------------------------------------------------------------------------
class _Pinned(http.client.HTTPConnection):
    """HTTP to the address that was checked (the Host header still names the host)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """HTTPS to the address that was checked, the certificate checked against the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post_webhook(url: str, body: dict[str, Any]) -> int:
    """POST the JSON; returns the status. DeliveryError when the address is refused, the
    connection fails or times out, the answer is not 2xx (a redirect is not followed)."""
    try:
        target = check_webhook_url(url)  # again at every send: names resolve anew
    except AlertError as exc:
        raise DeliveryError(str(exc)) from None
    timeout = _env_float("MAGSEARCH_WEBHOOK_TIMEOUT", 10.0)
    limit = int(_env_float("MAGSEARCH_WEBHOOK_MAX_RESPONSE", 65536))
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    ids = ",".join(str(a["id"]) for a in body.get("alerts", []))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Magsearch-Alerts": ids,
    }
    deadline = time.monotonic() + timeout
    conn_type = _PinnedTLS if target.scheme == "https" else _Pinned
    conn = conn_type(target.host, target.port, target.addresses[0], timeout)
    try:
        conn.request("POST", target.path, body=data, headers=headers)
        response = conn.getresponse()
        read = 0
        while read <= limit:  # read (and drop) at most `limit` bytes of the answer, in time
            if time.monotonic() > deadline:
                raise DeliveryError(f"webhook {url[:200]!r}: no complete answer in {timeout:g} s")
            chunk = response.read1(8192)
            if not chunk:
                break
            read += len(chunk)
    except (OSError, http.client.HTTPException) as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        raise DeliveryError(f"webhook {url[:200]!r}: {why}") from None
    finally:
        conn.close()
    if 300 <= response.status < 400:
        raise DeliveryError(
            f"webhook {url[:200]!r}: answered {response.status} (a redirect, not followed)"
        )
    if not 200 <= response.status < 300:
        raise DeliveryError(f"webhook {url[:200]!r}: answered {response.status} {response.reason}")
    return response.status


# -- e-mail ----------------------------------------------------------------------------------------
def send_email(to: str, saved: SavedSearch, body: dict[str, Any]) -> None:
    smtp = smtp_settings()
    if not smtp.host:
        raise DeliveryError("e-mail: MAGSEARCH_SMTP_HOST is not set")
    alerts = body["alerts"]
    msg = EmailMessage()
    n = len(alerts)
    msg["Subject"] = f"{n} new document{'' if n == 1 else 's'} for “{saved.name}”"[:200]
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    ids = ",".join(str(a["id"]) for a in alerts)
    stable = hashlib.sha256(f"{saved.id}:{ids}".encode()).hexdigest()[:32]
    msg["Message-ID"] = f"<alerts-{saved.id}-{stable}@magsearch>"  # the same for a resend
    msg["X-Magsearch-Alerts"] = ids
    lines = [f"New in the archive for your saved search “{saved.name}”:", ""]
    for a in alerts:
        lines.append(f"- {a['title']}")
        if a["citation"]:
            lines.append(f"  {a['citation']}")
        lines.append(f"  {a['url']}")
        if a["snippet"]:
            lines.append(f"  “{a['snippet'][:300]}”")
        lines.append("")
    lines += [
        f"The search: {body['saved_search']['url']}",
        "Change or stop these e-mails on the saved searches page of your account.",
    ]
    msg.set_content("\n".join(lines))
    try:
        if smtp.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password)
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"e-mail to {to!r} via {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}"[:400]
        ) from None
