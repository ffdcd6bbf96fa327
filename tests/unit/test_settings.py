from pathlib import Path

import pytest

from briefing_qa.errors import ConfigError
from briefing_qa.settings import Settings, parse_rate


def test_reads_environment():
    s = Settings.from_env(env={"BRIEFING_QA_INDEX": "/x", "BRIEFING_QA_PORT": "9000", "BRIEFING_QA_API_KEYS": "a, b:admin",
                               "BRIEFING_QA_LOG_QUERIES": "true"})
    assert s.index == Path("/x") and s.port == 9000 and s.api_keys == ("a", "b:admin") and s.log_queries is True


def test_overrides_win_and_none_falls_back():
    s = Settings.from_env(env={"BRIEFING_QA_PORT": "9000"}, port=None, host="0.0.0.0")
    assert s.port == 9000 and s.host == "0.0.0.0"


@pytest.mark.parametrize("key,value", [("BRIEFING_QA_PORT", "eighty"), ("BRIEFING_QA_PORT", "70000"),
                                       ("BRIEFING_QA_LOG_QUERIES", "maybe"), ("BRIEFING_QA_RATE_LIMIT", "lots")])
def test_errors_name_the_key(key, value):
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env={key: value})
    assert key in str(err.value)


def test_rate():
    assert parse_rate("60/minute") == (60, 60.0)
    assert parse_rate("5/second") == (5, 1.0)
