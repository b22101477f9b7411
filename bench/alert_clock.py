"""When did the estimator raise each lumbar alert, and when did each reach a subscriber?
(perf_counter times, for delay figures)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiomqtt

from tracker.core.estimate import AreaEstimator


@contextmanager
def alerts_raised() -> Iterator[list[float]]:
    """Record the moment each chunk that raises an alert leaves the estimator."""
    raised: list[float] = []
    feed = AreaEstimator.feed

    def timed_feed(self: AreaEstimator, *args: Any) -> Any:
        state = feed(self, *args)
        if state.alerts_s:
            raised.append(time.perf_counter())
        return state

    AreaEstimator.feed = timed_feed  # type: ignore[method-assign]
    try:
        yield raised
    finally:
        AreaEstimator.feed = feed  # type: ignore[method-assign]


async def alerts_arriving(client: aiomqtt.Client, arrived: list[float]) -> None:
    """Note the moment each lumbar alert reaches ``client`` (subscribe it to the events)."""
    async for message in client.messages:
        if b"lumbar_contact_alert" in bytes(message.payload):  # type: ignore[arg-type]
            arrived.append(time.perf_counter())
