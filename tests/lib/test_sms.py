"""SMS transports against the local gateway stand-in (real HTTP on 127.0.0.1)."""

import base64
import json
import logging
import socket
import time

import pytest
from o2s_esign_lib import sms
from o2s_esign_lib.errors import SmsError
from sms_gateway import SmsGateway

TO = "+33612345678"
BODY = "Votre code O2S : 482913. Ne le communiquez à personne."


@pytest.fixture
def gateway():
    with SmsGateway(account_sid="AC0123456789abcdef", auth_token="s3cr3t",
                    bearer="hook-token") as gw:
        yield gw


def twilio_config(gw, **over):
    config = {"base_url": gw.url, "account_sid": "AC0123456789abcdef", "auth_token": "s3cr3t",
              "from": "+33700000000"}
    config.update(over)
    return config


def webhook_config(gw, **over):
    config = {"url": gw.url + "/sms/send", "token": "hook-token", "sender": "O2S"}
    config.update(over)
    return config


def test_twilio_request_shape(gateway):
    message_id = sms.send_sms("twilio", twilio_config(gateway), TO, BODY)
    assert message_id.startswith("SM") and len(message_id) == 34
    (received,) = gateway.messages
    assert received.method == "POST"
    assert received.path == "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert received.form == {"To": TO, "From": "+33700000000", "Body": BODY}
    assert received.basic_auth == ("AC0123456789abcdef", "s3cr3t")
    expected = base64.b64encode(b"AC0123456789abcdef:s3cr3t").decode()
    assert received.headers["authorization"] == f"Basic {expected}"


def test_twilio_default_base_url_and_sender_alias(gateway):
    assert sms.TWILIO_BASE_URL == "https://api.twilio.com"
    config = twilio_config(gateway, base_url=gateway.url + "/")
    config["sender"] = config.pop("from")
    sms.send_sms("twilio", config, TO, BODY)
    assert gateway.messages[0].form["From"] == "+33700000000"
    assert gateway.messages[0].path.startswith("/2010-04-01/")


def test_twilio_wrong_credentials(gateway):
    with pytest.raises(SmsError) as info:
        sms.send_sms("twilio", twilio_config(gateway, auth_token="nope"), TO, BODY)
    error = info.value
    assert (error.code, error.transient) == ("http_401", False)
    assert error.params["provider_code"] == 20003
    assert "401" in str(error)


@pytest.mark.parametrize("status, transient", [
    (500, True), (502, True), (503, True), (429, True), (400, False), (404, False),
])
def test_http_errors(gateway, status, transient):
    gateway.fail_with(status)
    for transport, config in (("twilio", twilio_config(gateway)),
                              ("webhook", webhook_config(gateway))):
        with pytest.raises(SmsError) as info:
            sms.send_sms(transport, config, TO, BODY)
        assert info.value.code == f"http_{status}"
        assert info.value.transient is transient
        assert info.value.params["status"] == status
    assert len(gateway.messages) == 2


def test_hanging_gateway_times_out_bounded(gateway):
    gateway.hang()
    started = time.monotonic()
    with pytest.raises(SmsError) as info:
        sms.send_sms("twilio", twilio_config(gateway), TO, BODY, timeout=(1.0, 0.3))
    elapsed = time.monotonic() - started
    assert (info.value.code, info.value.transient) == ("timeout", True)
    assert gateway.hung.is_set()
    assert 0.25 <= elapsed < 3.0
    gateway.release()


def test_webhook_hang_times_out(gateway):
    gateway.hang()
    with pytest.raises(SmsError) as info:
        sms.send_sms("webhook", webhook_config(gateway), TO, BODY, timeout=(1.0, 0.2))
    assert info.value.code == "timeout"


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = {"base_url": f"http://127.0.0.1:{port}", "account_sid": "AC1", "auth_token": "t",
              "from": "+33700000000"}
    with pytest.raises(SmsError) as info:
        sms.send_sms("twilio", config, TO, BODY, timeout=(1.0, 1.0))
    assert (info.value.code, info.value.transient) == ("connection", True)


def test_twilio_bad_response(gateway):
    gateway.respond_raw(201, b"<html>ok</html>", "text/html")
    with pytest.raises(SmsError) as info:
        sms.send_sms("twilio", twilio_config(gateway), TO, BODY)
    assert (info.value.code, info.value.transient) == ("bad_response", False)
    gateway.respond_raw(201, b'{"status": "queued"}')
    with pytest.raises(SmsError) as info:
        sms.send_sms("twilio", twilio_config(gateway), TO, BODY)
    assert info.value.code == "bad_response"


def test_redirects_are_not_followed(gateway):
    gateway.respond_raw(302, b"", "text/plain")
    with pytest.raises(SmsError) as info:
        sms.send_sms("webhook", webhook_config(gateway), TO, BODY)
    assert info.value.code == "http_302"
    assert len(gateway.messages) == 1


def test_webhook_request_shape(gateway):
    message_id = sms.send_sms("webhook", webhook_config(gateway), TO, BODY)
    assert message_id.startswith("wh-")
    (received,) = gateway.messages
    assert received.path == "/sms/send"
    assert received.headers["content-type"] == "application/json"
    assert received.json == {"to": TO, "body": BODY, "sender": "O2S"}
    assert received.bearer == "hook-token"


def test_webhook_without_token_sends_no_authorization():
    with SmsGateway() as gw:
        sms.send_sms("webhook", {"url": gw.url + "/hook"}, TO, BODY)
        (received,) = gw.messages
        assert "authorization" not in received.headers
        assert received.json == {"to": TO, "body": BODY, "sender": ""}


def test_webhook_wrong_token(gateway):
    with pytest.raises(SmsError) as info:
        sms.send_sms("webhook", webhook_config(gateway, token="other"), TO, BODY)
    assert info.value.code == "http_401" and not info.value.transient


def test_webhook_id_less_answers_get_a_synthetic_id(gateway):
    gateway.respond_raw(204, b"", "text/plain")
    assert sms.send_sms("webhook", webhook_config(gateway), TO, BODY).startswith("webhook-")
    gateway.respond_raw(200, b'{"message_id": 77}')
    assert sms.send_sms("webhook", webhook_config(gateway), TO, BODY) == "77"


def test_outbox_sends_nothing(gateway):
    first = sms.send_sms("outbox", {}, TO, BODY)
    second = sms.send_sms("outbox", None, TO, BODY)
    assert first.startswith("outbox-") and first != second
    assert gateway.messages == []


@pytest.mark.parametrize("transport, config, missing", [
    ("twilio", {"auth_token": "t", "from": "+1"}, "account_sid"),
    ("twilio", {"account_sid": "AC", "from": "+1"}, "auth_token"),
    ("twilio", {"account_sid": "AC", "auth_token": "t", "sender": " "}, "from"),
    ("twilio", {}, "account_sid, auth_token, from"),
    ("webhook", {"token": "x"}, "url"),
])
def test_config_missing(transport, config, missing):
    with pytest.raises(SmsError) as info:
        sms.send_sms(transport, config, TO, BODY)
    assert info.value.code == "config_missing"
    assert missing in info.value.params["missing"]
    assert not info.value.transient


def test_bad_url_is_a_config_error():
    with pytest.raises(SmsError) as info:
        sms.send_sms("webhook", {"url": "not a url"}, TO, BODY)
    assert info.value.code == "config_missing"


@pytest.mark.parametrize("transport", ["iap", "email", "", None])
def test_unknown_transport(transport):
    with pytest.raises(SmsError) as info:
        sms.send_sms(transport, {}, TO, BODY)
    assert info.value.code == "transport_unknown"


@pytest.mark.parametrize("number", ["0612345678", "+0612345678", "", None, "+33 6 12 34 56 78",
                                    "+33612345678\nBcc: x", "+1234"])
def test_invalid_number(number):
    with pytest.raises(SmsError) as info:
        sms.send_sms("outbox", {}, number, BODY)
    assert info.value.code == "invalid_number"


def test_body_never_logged_nor_in_errors(gateway, caplog):
    caplog.set_level(logging.DEBUG)
    sms.send_sms("twilio", twilio_config(gateway), TO, BODY)
    gateway.respond_raw(400, json.dumps({"code": 21617, "message": f"Body '{BODY}' too long, "
                                                                   "code 482913"}).encode())
    with pytest.raises(SmsError) as info:
        sms.send_sms("twilio", twilio_config(gateway), TO, BODY)
    gateway.respond_raw(0, b"")
    gateway.fail_with(500)
    with pytest.raises(SmsError) as info2:
        sms.send_sms("webhook", webhook_config(gateway), TO, BODY)
    for text in (caplog.text, str(info.value), repr(info.value), str(info2.value),
                 repr(info2.value)):
        assert "482913" not in text
    assert info.value.params["provider_code"] == 21617
    assert "[redacted]" in info.value.params["provider_message"]


@pytest.mark.parametrize("code, public", [
    ("timeout", "unreachable"), ("connection", "unreachable"), ("bad_response", "unreachable"),
    ("http_401", "unreachable"), ("http_503", "unreachable"),
    ("invalid_number", "invalid_number"), ("config_missing", "config_missing"),
])
def test_network_outcomes_are_reported_alike(code, public):
    """Every network outcome is one public code (it must not tell what answers where); the
    others keep theirs."""
    assert sms.is_unreachable(code) == (public == "unreachable")
    assert sms.public_code(code) == public
