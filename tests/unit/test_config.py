"""Reference data: every shipped file loads, and a malformed line is reported with file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from media_monitoring.config import (
    ConfigError,
    load_analysts,
    load_regions,
    load_registry,
    load_watchlists,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "include" / "config"
REPLAY_REGISTRY = ROOT / "seeds" / "replay" / "outlets.yaml"
BASE = "http://127.0.0.1:8765"

GOOD = """\
version: "1"
outlets:
  - id: first-outlet
    name: First
    feed_url: "https://first.example/rss"
    country: kz
    languages: [en, ru]
  - id: second
    name: Second
    feed_url: "{{REPLAY_BASE}}/second/rss.xml"
    country: KG
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outlets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_registry(path, BASE)
    return str(info.value)


def test_good_registry_loads(tmp_path: Path) -> None:
    registry = load_registry(_write(tmp_path, GOOD), BASE)
    by_id = registry.by_id()
    assert by_id["first-outlet"].country == "KZ"
    assert by_id["first-outlet"].languages == ("en", "ru")
    assert by_id["second"].feed_url == f"{BASE}/second/rss.xml"
    assert by_id["second"].allow_private is False


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("    country: KG\n", "    country: KGZ\n", 11, "outlets.1.country"),
        ("    country: KG\n", "    country: K1\n", 11, "outlets.1.country"),
        ("  - id: second\n", "  - id: Second_Outlet\n", 8, "outlets.1.id"),
        ('    feed_url: "https://first.example/rss"\n', '    feed_url: "ftp://first.example/rss"\n', 5,
         "outlets.0.feed_url"),
        ('    feed_url: "https://first.example/rss"\n', "", 3, "outlets.0.feed_url"),  # missing field
        ("    name: Second\n", "    name: Second\n    colour: red\n", 10, "outlets.1.colour"),
        ("    languages: [en, ru]\n", "    languages: en, ru\n", 7, "outlets.0.languages"),
    ],
)
def test_malformed_line_is_named(tmp_path: Path, old: str, new: str, line: int, field: str) -> None:
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new))
    message = _error(path)
    assert f"{path}:{line}: {field}:" in message, message


def test_duplicate_id_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("  - id: second\n", "  - id: first-outlet\n"))
    message = _error(path)
    assert f"{path}:8: outlets.1.id:" in message, message
    assert "first-outlet" in message and "twice" in message


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD + "  - id: [unclosed\n")
    message = _error(path)
    assert str(path) in message and "YAML" in message and re.search(r"line \d+", message)
    missing = tmp_path / "nope.yaml"
    assert str(missing) in _error(missing)


def test_replay_registry_loads_with_base() -> None:
    registry = load_registry(REPLAY_REGISTRY, BASE)
    assert len(registry.outlets) == 8
    for outlet in registry.outlets:
        assert outlet.feed_url.startswith(BASE + "/")
        assert "{{" not in (outlet.homepage or "")
        assert outlet.allow_private
        assert re.fullmatch(r"[A-Z]{2}", outlet.country)


def test_production_registry_loads_without_private_hosts() -> None:
    registry = load_registry(CONFIG / "outlets.yaml", BASE)
    assert registry.outlets
    replay_ids = {o.id for o in load_registry(REPLAY_REGISTRY, BASE).outlets}
    assert replay_ids <= set(registry.by_id())  # the replay snapshot mirrors production ids
    for outlet in registry.outlets:
        assert not outlet.allow_private
        assert outlet.feed_url.startswith("https://") or outlet.feed_url.startswith("http://")


def test_watchlists_regions_and_analysts_load_and_agree() -> None:
    watchlists = load_watchlists(CONFIG / "watchlists.yaml")
    regions = load_regions(CONFIG / "regions.yaml")
    analysts = load_analysts(CONFIG / "analysts.yaml")
    names = {w.name for w in watchlists.watchlists}
    assert names and all(w.terms for w in watchlists.watchlists)
    assert all(re.fullmatch(r"[A-Z]{2}", c) for g in regions.groups for c in g.countries)
    assert analysts.subscriptions
    for sub in analysts.subscriptions:
        assert set(sub.watchlists) <= names, f"{sub.name} subscribes to an unknown watchlist"


def test_bad_analyst_email_is_named(tmp_path: Path) -> None:
    path = tmp_path / "analysts.yaml"
    path.write_text(
        'sender: "MM <mm@example.org>"\nsubscriptions:\n  - name: Desk\n    email: "desk@example.org\\r\\nBcc: x@y.z"\n'
        "    watchlists: [w]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_analysts(path)
    assert f"{path}:4: subscriptions.0.email:" in str(info.value)
