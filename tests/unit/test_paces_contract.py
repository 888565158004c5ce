"""One contract for every Paces adapter (DynamoDB on the local server, local mode's SQLite, the in-memory fake):
the recent paces of a key come back newest first, at most `RECENT_PACES` of them, and keys do not mix."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handler.adapters.dynamodb_usage import DynamoDBUsage
from handler.adapters.sqlite_usage import SQLiteUsage
from handler.core.pace import RECENT_PACES, pace_key
from handler.core.ports import Paces
from tests.fakes import MemoryUsage

NOW = 1_800_000_000.0


@pytest.fixture(params=["dynamodb", "sqlite", "memory"])
def paces(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Paces]:
    if request.param == "dynamodb":
        clients: dict[str, Any] = request.getfixturevalue("aws_clients")
        tables: dict[str, str] = request.getfixturevalue("tables")
        yield DynamoDBUsage(clients["dynamodb"], tables["StateTable"])
    elif request.param == "memory":
        yield MemoryUsage()
    else:
        usage = SQLiteUsage(tmp_path / "state.sqlite3")
        yield usage
        usage.close()


def test_the_recent_paces_come_newest_first_and_only_the_last_few(paces: Paces) -> None:
    key = pace_key("best", 512, f"fp32+nnpack-{uuid.uuid4().hex[:6]}")  # a key of this test's own
    assert paces.recent_paces(key) == []
    # Recorded out of order: the order is the time each was measured
    for offset, pace in [(3, 1.3), (1, 1.1), (7, 1.7), (5, 1.5), (2, 1.2), (6, 1.6), (4, 1.4)]:
        paces.add_pace(key, pace, NOW + offset)
    assert paces.recent_paces(key) == pytest.approx([1.7, 1.6, 1.5, 1.4, 1.3][:RECENT_PACES])


def test_paces_of_another_kind_size_or_path_are_not_mixed_in(paces: Paces) -> None:
    path = f"fp32-{uuid.uuid4().hex[:6]}"
    paces.add_pace(pace_key("best", 512, path), 2.0, NOW)
    paces.add_pace(pace_key("best", 1024, path), 3.0, NOW)
    paces.add_pace(pace_key("quick", 512, path), 0.5, NOW)
    paces.add_pace(pace_key("preset:animeganv2", 512, path), 0.8, NOW)
    assert paces.recent_paces(pace_key("best", 512, path)) == pytest.approx([2.0])
    assert paces.recent_paces(pace_key("best", 1024, path)) == pytest.approx([3.0])
    assert paces.recent_paces(pace_key("best", 512, "bf16")) == []
