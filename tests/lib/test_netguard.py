"""Which URLs the server may call (lib/netguard.py), and lib.sms refusing the others."""

import pytest
from o2s_esign_lib import netguard, sms
from o2s_esign_lib.errors import SmsError
from sms_gateway import SmsGateway


def resolver(*addresses):
    return lambda host, port: list(addresses)


def unresolvable(host, port):
    raise OSError("not found")


@pytest.mark.parametrize("url, addresses, expected", [
    ("https://sms.example.com/send", ["93.184.216.34"], None),
    ("https://sms.example.com/send", ["2606:2800:220:1::1"], None),
    ("https://8.8.8.8/", [], None),
    ("http://sms.example.com/send", ["93.184.216.34"], "scheme"),
    ("ftp://sms.example.com/", ["93.184.216.34"], "scheme"),
    ("sms.example.com/send", ["93.184.216.34"], "scheme"),
    ("https://user:pw@sms.example.com/", ["93.184.216.34"], "host"),
    ("https://sms.example.com:99999/", ["93.184.216.34"], "host"),
    ("https:///path", [], "host"),
    ("https://sms.example.com/", ["93.184.216.34", "10.0.0.1"], "address"),  # every address
    ("https://sms.example.com/", ["192.168.1.1"], "address"),
    ("https://sms.example.com/", ["172.16.5.4"], "address"),
    ("https://sms.example.com/", ["100.64.0.1"], "address"),  # shared (carrier-grade NAT)
    ("https://sms.example.com/", ["169.254.169.254"], "address"),  # link-local (cloud metadata)
    ("https://sms.example.com/", ["127.0.0.1"], "address"),
    ("https://sms.example.com/", ["0.0.0.0"], "address"),
    ("https://sms.example.com/", ["224.0.0.1"], "address"),
    ("https://sms.example.com/", ["240.0.0.1"], "address"),
    ("https://sms.example.com/", ["::1"], "address"),
    ("https://sms.example.com/", ["fe80::1%eth0"], "address"),
    ("https://sms.example.com/", ["fd12::1"], "address"),
    ("https://sms.example.com/", ["::ffff:10.0.0.1"], "address"),  # IPv4-mapped
    ("https://sms.example.com/", ["64:ff9b::a00:1"], "address"),  # NAT64 of 10.0.0.1
    ("https://sms.example.com/", ["2002:a00:1::1"], "address"),  # 6to4 of 10.0.0.1
    ("https://127.0.0.1:8069/web", [], "address"),
    ("https://[::1]/", [], "address"),
    ("https://localhost/", [], "address"),
    ("https://10.1.2.3/", [], "address"),
])
def test_url_problem(url, addresses, expected):
    assert netguard.url_problem(url, resolver=resolver(*addresses)) == expected


def test_loopback_over_http_only_when_allowed():
    local = "http://127.0.0.1:8071/sms"
    assert netguard.url_problem(local) == "scheme"
    assert netguard.url_problem(local, allow_localhost=True) is None
    assert netguard.url_problem("http://localhost:8071/", allow_localhost=True,
                                resolver=resolver("127.0.0.1", "::1")) is None
    # the setting opens the loopback, nothing else
    assert netguard.url_problem("http://sms.example.com/", allow_localhost=True,
                                resolver=resolver("93.184.216.34")) == "scheme"
    assert netguard.url_problem("https://10.0.0.1/", allow_localhost=True) == "address"
    assert netguard.url_problem("http://localhost:8071/", allow_localhost=True,
                                resolver=resolver("10.0.0.1")) == "address"


def test_resolution():
    assert netguard.url_problem("https://nowhere.example/", resolver=unresolvable) == "resolve"
    assert netguard.url_problem("https://nowhere.example/", resolve=False) is None
    assert netguard.url_problem("https://10.0.0.1/", resolve=False) == "address"


def test_send_sms_refused_url_is_never_called():
    with SmsGateway(bearer="t") as gw:
        with pytest.raises(SmsError) as caught:
            sms.send_sms("webhook", {"url": gw.url + "/sms", "token": "t"}, "+33612345678", "code 123456",
                         check_url=lambda url: False)
        assert caught.value.code == "connection" and caught.value.transient
        assert not gw.messages
        seen = []
        sms.send_sms("webhook", {"url": gw.url + "/sms", "token": "t"}, "+33612345678", "code 123456",
                     check_url=lambda url: seen.append(url) or True)
        assert seen == [gw.url + "/sms"] and len(gw.messages) == 1
