"""A watcher keeps one Kafka admin client across polls and builds a new one only after a failure
(infra.pipeline.SharedAdmin): with SASL/SCRAM each new client is a handshake."""
from __future__ import annotations

import pytest

from infra.pipeline import SharedAdmin


class FakeClient:
    def __init__(self, n: int):
        self.n = n
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_one_client_serves_every_poll_until_closed():
    built: list[FakeClient] = []
    shared = SharedAdmin(lambda: built.append(FakeClient(len(built))) or built[-1])
    assert [shared.call(lambda c: c.n) for _ in range(20)] == [0] * 20
    assert shared.built == 1 and not built[0].closed
    shared.close()
    assert built[0].closed
    assert shared.call(lambda c: c.n) == 1  # used again after close: a new client


def test_a_failed_call_is_retried_once_on_a_new_client():
    built: list[FakeClient] = []
    shared = SharedAdmin(lambda: built.append(FakeClient(len(built))) or built[-1])
    shared.call(lambda c: c.n)

    def broker_came_back(client: FakeClient) -> int:
        if client.n == 0:
            raise ConnectionError("the broker went away")
        return client.n

    assert shared.call(broker_came_back) == 1
    assert built[0].closed and not built[1].closed
    assert shared.call(lambda c: c.n) == 1 and shared.built == 2


def test_a_broker_still_away_raises_and_keeps_no_client():
    built: list[FakeClient] = []
    shared = SharedAdmin(lambda: built.append(FakeClient(len(built))) or built[-1])

    def away(client: FakeClient) -> int:
        raise ConnectionError("no broker")

    with pytest.raises(ConnectionError):
        shared.call(away)
    assert len(built) == 2 and all(c.closed for c in built) and shared.client is None


def test_a_connection_is_rebuilt_only_for_the_errors_that_mean_it_broke():
    """infra.pipeline.database: a broken PostgreSQL connection is replaced; a query's own error
    (autocommit: the connection stays usable) is raised on the same connection."""
    from infra.pipeline import Shared

    built: list[FakeClient] = []
    shared = Shared(lambda: built.append(FakeClient(len(built))) or built[-1],
                    reconnect_on=(ConnectionError,))

    def bad_query(client: FakeClient) -> int:
        raise LookupError("no such table")

    with pytest.raises(LookupError):
        shared.call(bad_query)
    assert shared.built == 1 and not built[0].closed
    assert shared.call(lambda c: c.n) == 0
