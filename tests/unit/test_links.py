"""The base of citation deep links: never a Host header nobody vouched for."""

from __future__ import annotations

import pytest

from briefing_qa.errors import ConfigError
from briefing_qa.links import citation_base, host_name
from briefing_qa.settings import Settings

PLAIN = Settings.from_env(env={})
INTRANET = Settings.from_env(env={"BRIEFING_QA_ALLOWED_HOSTS": "qa.intranet.example.org, [fd00::5]"})


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "LOCALHOST:80", "[::1]:8000", "localhost."])
def test_loopback_hosts_give_absolute_links(host):
    assert citation_base(PLAIN, "http", host) == f"http://{host}"


@pytest.mark.parametrize("host", [
    "evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost@evil.example", "evil.example#@localhost",
    "localhost/evil", "localhost:80/x", "localhost, evil.example", "localhost evil", "", None, "[::1]@evil", "qa.intranet.example.org",
    "localhost:999999",
])
def test_other_or_malformed_hosts_give_relative_links(host):
    assert citation_base(PLAIN, "http", host) == ""


def test_allowed_hosts_and_public_url():
    assert citation_base(INTRANET, "https", "qa.intranet.example.org") == "https://qa.intranet.example.org"
    assert citation_base(INTRANET, "https", "QA.Intranet.Example.org:8443", "/bqa/") == "https://QA.Intranet.Example.org:8443/bqa"
    assert citation_base(INTRANET, "http", "[fd00::5]:8000") == "http://[fd00::5]:8000"
    assert citation_base(INTRANET, "http", "evil.example") == ""
    assert citation_base(INTRANET, "javascript", "qa.intranet.example.org") == ""
    public = Settings.from_env(env={"BRIEFING_QA_PUBLIC_URL": "https://qa.example.org/"})
    assert citation_base(public, "http", "evil.example") == "https://qa.example.org"
    assert host_name("Example.ORG:80") == "example.org"


@pytest.mark.parametrize(("key", "value"), [
    ("BRIEFING_QA_ALLOWED_HOSTS", "https://qa.example.org"),
    ("BRIEFING_QA_ALLOWED_HOSTS", "qa.example.org:8000"),
    ("BRIEFING_QA_PUBLIC_URL", "qa.example.org"),
])
def test_bad_link_settings_name_the_key(key, value):
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env={key: value})
    assert err.value.extra["key"] == key and key in err.value.detail
