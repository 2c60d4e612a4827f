"""Each subscription gets its previous local day at its own digest time, from an hourly DAG."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from media_monitoring.config import ConfigError, load_analysts
from media_monitoring.digest.run import due_subscriptions

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ANALYSTS = load_analysts(ROOT / "include/config/analysts.yaml")  # Almaty 07:00, Moscow 08:30


def _hour(start: datetime) -> dict[date, list[str]]:
    return due_subscriptions(ANALYSTS, start, start + timedelta(hours=1))


def test_each_subscription_is_due_once_a_day_at_its_local_time():
    day = datetime(2021, 10, 29, tzinfo=UTC)
    sent = {}
    for hour in range(24):
        for covered, names in _hour(day + timedelta(hours=hour)).items():
            for name in names:
                sent.setdefault(name, []).append((hour, covered))
    # Almaty is UTC+6: 07:00 there is 01:00 UTC; Moscow is UTC+3: 08:30 there is 05:30 UTC.
    assert sent == {"Central Asia desk": [(1, date(2021, 10, 28))], "Russia desk": [(5, date(2021, 10, 28))]}


def test_the_covered_day_is_the_analysts_previous_local_day():
    # 23:30 UTC on the 28th is already 05:30 on the 29th in Almaty, but not yet its digest time.
    assert _hour(datetime(2021, 10, 28, 23, tzinfo=UTC)) == {}
    assert _hour(datetime(2021, 10, 29, 1, tzinfo=UTC)) == {date(2021, 10, 28): ["Central Asia desk"]}


def test_bad_digest_time_or_timezone_is_reported_with_its_line(tmp_path):
    bad = (ROOT / "include/config/analysts.yaml").read_text(encoding="utf-8").replace(
        'digest_time: "08:30"', 'digest_time: "8.30"').replace("Europe/Moscow", "Europe/Moskva")
    path = tmp_path / "analysts.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_analysts(path)
    assert "digest_time is HH:MM" in str(err.value) and "unknown time zone 'Europe/Moskva'" in str(err.value)
    assert f"{path}:" in str(err.value)
