"""The fair queue of password hashes: who goes next during a flood."""

from __future__ import annotations

import pytest

from camauth.core.hashing import FairQueue, QueueFull


def drain(queue: FairQueue[str]) -> list[str]:
    order = []
    while (job := queue.pop()) is not None:
        order.append(job)
    return order


def test_the_priority_lane_goes_first() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.push("stranger", "10.0.0.1")
    queue.push("owner", "10.0.0.2", priority=True)
    assert drain(queue) == ["owner", "stranger"]


def test_clients_take_turns_instead_of_first_come_first_served() -> None:
    queue: FairQueue[str] = FairQueue()
    for n in range(4):
        queue.push(f"flood{n}", "10.0.0.1")
    queue.push("visitor", "10.0.0.2")
    assert drain(queue) == ["flood0", "visitor", "flood1", "flood2", "flood3"]


def test_a_client_never_served_goes_before_those_served_before() -> None:
    queue: FairQueue[str] = FairQueue()
    bots = [f"192.0.2.{n}" for n in range(50)]
    for bot in bots:  # every bot has had a turn
        queue.push(f"first-{bot}", bot)
    assert len(drain(queue)) == 50
    for bot in bots:
        queue.push(f"again-{bot}", bot)
    queue.push("newcomer", "198.51.100.7")
    assert queue.pop() == "newcomer"
    # And then the bots in the order they were served longest ago.
    assert drain(queue) == [f"again-{bot}" for bot in bots]


def test_each_client_may_wait_only_so_many_times() -> None:
    queue: FairQueue[str] = FairQueue(per_client=2)
    queue.push("a", "10.0.0.1")
    queue.push("b", "10.0.0.1")
    with pytest.raises(QueueFull):
        queue.push("c", "10.0.0.1")
    queue.push("d", "10.0.0.2")  # others are not affected
    assert len(queue) == 3


def test_a_full_queue_lets_a_newcomer_in_by_refusing_the_last_in_line() -> None:
    queue: FairQueue[str] = FairQueue(per_client=4, max_waiting=3)
    for n in range(3):
        queue.push(f"bot{n}", f"192.0.2.{n}")
    for _ in range(3):  # each bot has been served once: they rank after any newcomer
        queue.pop()
    for n in range(3):
        queue.push(f"bot{n}-again", f"192.0.2.{n}")
    evicted = queue.push("newcomer", "198.51.100.7")
    assert evicted == "bot2-again"  # the one that would have been served last
    assert len(queue) == 3
    assert queue.pop() == "newcomer"


def test_a_full_queue_refuses_one_who_would_not_go_sooner() -> None:
    queue: FairQueue[str] = FairQueue(per_client=4, max_waiting=2)
    queue.push("a", "10.0.0.1")
    queue.push("b", "10.0.0.2")
    with pytest.raises(QueueFull):  # never served, like those waiting: no one to displace
        queue.push("c", "10.0.0.3")


def test_the_priority_lane_is_bounded() -> None:
    queue: FairQueue[str] = FairQueue(max_priority=1)
    queue.push("one", "x", priority=True)
    with pytest.raises(QueueFull):
        queue.push("two", "x", priority=True)


def test_a_job_can_be_taken_back() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.push("a", "10.0.0.1")
    queue.push("p", "10.0.0.1", priority=True)
    assert queue.remove("a")
    assert queue.remove("p")
    assert not queue.remove("never")
    assert len(queue) == 0
    assert queue.pop() is None


def test_a_login_to_an_account_not_under_attack_goes_before_the_flood() -> None:
    queue: FairQueue[str] = FairQueue()
    bots = [f"192.0.2.{n}" for n in range(40)]
    for n, bot in enumerate(bots[:20]):  # half the botnet has had turns, on two names
        queue.push(f"served-{bot}", bot, account=("admin", "bob")[n % 2])
    assert len(drain(queue)) == 20
    for n, bot in enumerate(bots):  # and the whole botnet waits, on the same two names
        queue.push(f"flood-{bot}", bot, account=("admin", "bob")[n % 2])
    queue.push("carol", "198.51.100.7", account="carol")
    assert queue.pop() == "carol"  # neither her address nor her name was served before


def test_a_new_address_for_a_flooded_account_waits_with_the_flood() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.push("first", "192.0.2.1", account="admin")
    queue.pop()
    queue.push("bot", "192.0.2.2", account="bob")
    queue.push("stranger", "198.51.100.7", account="admin")  # admin's turn came a moment ago
    assert drain(queue) == ["bot", "stranger"]


def test_one_address_trying_many_names_still_waits_for_its_turn() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.push("guess0", "10.0.0.1", account="name0")
    queue.pop()  # the address has had a turn
    for n in range(1, 5):
        queue.push(f"guess{n}", "10.0.0.1", account=f"name{n}")
    queue.push("visitor", "10.0.0.2", account="alice")
    assert queue.pop() == "visitor"
