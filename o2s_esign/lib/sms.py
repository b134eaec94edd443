"""Sending SMS through the transports of the public interface (``iap`` is the Odoo layer's).

``send_sms(transport, config, to, body)`` returns the provider's message id or raises
:class:`~.errors.SmsError` with a stable code: ``timeout``, ``connection``, ``http_<status>``,
``bad_response``, ``config_missing``, ``transport_unknown``, ``invalid_number``.
``transient`` is true for ``timeout``, ``connection``, 5xx and 429, so callers may retry later.

The body holds the one-time code: it is never logged, and never copied into an error (a
provider message echoing it is redacted).

Configuration keys (from the ``res.company`` settings):

* ``twilio``: ``account_sid``, ``auth_token``, ``from`` (alias ``sender``), ``base_url``
  (default ``https://api.twilio.com``).
* ``webhook``: ``url``, ``token`` (optional bearer token), ``sender`` (optional).
* ``outbox``: nothing; sends nothing and returns a synthetic id.
"""

import json
import logging
import re
import uuid

import requests

from .errors import SmsError

_logger = logging.getLogger(__name__)

TWILIO_BASE_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT = (3.05, 10)
#: largest gateway answer read (bytes); the rest is ignored
MAX_RESPONSE = 64 * 1024
_E164 = re.compile(r"\+[1-9][0-9]{6,14}\Z")
_USER_AGENT = "o2s-esign-sms/1"


def is_unreachable(code: str) -> bool:
    """Whether an :class:`SmsError` code is one of the gateway's network outcomes (no answer,
    refused connection or address, an HTTP error, an unexpected answer). They are reported
    alike to the advisor and in the audit trail, so that they never tell which addresses and
    ports answer; the server log keeps the exact code."""
    return code in ("timeout", "connection", "bad_response") or code.startswith("http_")


def public_code(code: str) -> str:
    """An :class:`SmsError` code as the audit trail records it: ``unreachable`` for every
    network outcome (see :func:`is_unreachable`)."""
    return "unreachable" if is_unreachable(code) else code


def _require(config: dict, transport: str, *names: str) -> list:
    values, missing = [], []
    for name in names:
        value = config.get(name)
        if isinstance(value, str):
            value = value.strip()
        if not value:
            missing.append(name)
        values.append(value)
    if missing:
        raise SmsError("config_missing", {"transport": transport, "missing": ", ".join(missing)})
    return values


def _redact(text: str, body: str) -> str:
    text = text[:300]
    if body and body.strip():
        text = text.replace(body, "[redacted]")
    # never echo anything that looks like a code
    return re.sub(r"\d{4,}", "[redacted]", text)


def _read_json(response: requests.Response):
    """Parse at most MAX_RESPONSE bytes of the answer as JSON (``None`` if it is not)."""
    data = b""
    for chunk in response.iter_content(8192):
        data += chunk
        if len(data) >= MAX_RESPONSE:
            break
    response.close()
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return None


def _post(transport: str, url: str, body: str, timeout, check_url=None, **kwargs):
    if check_url is not None and not check_url(url):
        # a URL the caller does not allow fails like a gateway that cannot be reached
        raise SmsError("connection", {"transport": transport}, transient=True)
    try:
        response = requests.post(url, timeout=timeout, allow_redirects=False, stream=True,
                                 **kwargs)
    except requests.Timeout as exc:
        raise SmsError("timeout", {"transport": transport}, transient=True) from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise SmsError("connection", {"transport": transport}, transient=True) from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema) as exc:
        raise SmsError("config_missing", {"transport": transport, "missing": "url"}) from exc
    try:
        payload = _read_json(response)
    except requests.Timeout as exc:
        raise SmsError("timeout", {"transport": transport}, transient=True) from exc
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise SmsError("connection", {"transport": transport}, transient=True) from exc
    status = response.status_code
    if not 200 <= status < 300:
        params = {"transport": transport, "status": status}
        if isinstance(payload, dict):
            if isinstance(payload.get("code"), int):
                params["provider_code"] = payload["code"]
            if isinstance(payload.get("message"), str):
                params["provider_message"] = _redact(payload["message"], body)
        transient = status >= 500 or status == 429
        # INFO, not WARNING: the caller gets an SmsError and reports it (event, request error).
        _logger.info("SMS via %s refused: HTTP %s", transport, status)
        raise SmsError(f"http_{status}", params, transient=transient)
    return payload


def _twilio(config: dict, to: str, body: str, timeout, check_url=None) -> str:
    config = dict(config, **{"from": config.get("from") or config.get("sender")})
    account_sid, auth_token, sender = _require(config, "twilio", "account_sid", "auth_token",
                                               "from")
    base_url = (config.get("base_url") or TWILIO_BASE_URL).strip().rstrip("/")
    url = f"{base_url}/2010-04-01/Accounts/{requests.utils.quote(account_sid, safe='')}" \
          "/Messages.json"
    payload = _post("twilio", url, body, timeout, check_url,
                    data={"To": to, "From": sender, "Body": body},
                    auth=(account_sid, auth_token),
                    headers={"Accept": "application/json", "User-Agent": _USER_AGENT})
    sid = payload.get("sid") if isinstance(payload, dict) else None
    if not isinstance(sid, str) or not sid:
        raise SmsError("bad_response", {"transport": "twilio"})
    return sid


def _webhook(config: dict, to: str, body: str, timeout, check_url=None) -> str:
    (url,) = _require(config, "webhook", "url")
    headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
    token = (config.get("token") or "").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = _post("webhook", url, body, timeout, check_url, headers=headers,
                    json={"to": to, "body": body, "sender": config.get("sender") or ""})
    if isinstance(payload, dict):
        for key in ("id", "message_id", "sid"):
            value = payload.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    # a webhook may accept with an empty or id-less answer: the 2xx is the acknowledgement
    return f"webhook-{uuid.uuid4().hex}"


def send_sms(transport: str, config: dict, to: str, body: str, *,
             timeout=DEFAULT_TIMEOUT, check_url=None) -> str:
    """Send ``body`` to ``to`` (E.164, e.g. ``+33612345678``) and return the message id.

    ``timeout`` is requests' ``(connect, read)`` pair, so a hanging gateway costs at most
    about their sum. Redirects are not followed. ``check_url`` (optional) is called with the
    URL about to be posted to; when it returns false nothing is sent and the error is the one
    of an unreachable gateway (``connection``).
    """
    config = config or {}
    if transport not in ("twilio", "webhook", "outbox"):
        raise SmsError("transport_unknown", {"transport": transport})
    if not isinstance(to, str) or not _E164.match(to.strip()):
        raise SmsError("invalid_number", {"transport": transport})
    to = to.strip()
    if not isinstance(body, str) or not body:
        raise ValueError("empty SMS body")
    if transport == "outbox":
        return f"outbox-{uuid.uuid4().hex}"
    if transport == "twilio":
        return _twilio(config, to, body, timeout, check_url)
    return _webhook(config, to, body, timeout, check_url)
