"""Sharing the password-hashing threads fairly, so a flood cannot keep the owner out.

bcrypt is slow on purpose, so hashing capacity is what a login flood exhausts. Waiting
hashes are not served first come, first served, which would let whoever sends most take
nearly every slot. Instead:

- a login from a browser known to belong to that user (a valid device cookie, OWASP's
  "device cookies"), and hashing for an administrator's own action, go first;
- among strangers, the next turn goes to the login whose client address (IPv6: its /64) and
  whose username were both served longest ago: a login ranks as the later of its address's
  and its username's last turns, and one with neither served before goes before all of
  them. A botnet of many addresses gets one turn per address per round, and the usernames
  it floods share their turns too, so a person logging in to an account that is not under
  attack, from a new address, is next in line; one address trying many usernames still
  waits for its own turn;
- each address may have as many hashes waiting as the login guard lets it have in flight
  (``lockouts.MAX_IN_FLIGHT``), and the whole queue is bounded. When it is full,
  a newcomer that would be served before the last one waiting takes its place (that one is
  told to try again), so a flood can never fill the queue against newcomers.

The queue itself is :class:`FairQueue`, plain logic that tests drive directly.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

J = TypeVar("J")

PER_CLIENT = 8  # as many as the login guard lets one address have in flight
MAX_WAITING = 256
MAX_PRIORITY = 64
MAX_REMEMBERED = 20_000


@dataclass(slots=True)
class _Client(Generic[J]):
    waiting: deque[tuple[J, str]] = field(default_factory=deque)  # each job and its account


class QueueFull(Exception):
    """No room: the job is refused (the caller answers 429)."""


class FairQueue(Generic[J]):
    """Waiting jobs: a priority lane, then clients by how long ago they were last served."""

    def __init__(
        self,
        per_client: int = PER_CLIENT,
        max_waiting: int = MAX_WAITING,
        max_priority: int = MAX_PRIORITY,
    ) -> None:
        """Bound each client's waiting jobs, all waiting jobs, and the priority lane."""
        self._per_client = per_client
        self._max_waiting = max_waiting
        self._max_priority = max_priority
        self._priority: deque[J] = deque()
        self._clients: dict[str, _Client[J]] = {}
        self._waiting = 0
        # When each client and each account was last served (a counter, not a clock).
        self._served: OrderedDict[str, int] = OrderedDict()
        self._accounts: OrderedDict[str, int] = OrderedDict()
        self._turns = itertools.count(1)

    def __len__(self) -> int:
        return self._waiting + len(self._priority)

    def _rank(self, client: str, account: str) -> int:
        """The later of the client's and the account's last turns (0: never served)."""
        return max(self._served.get(client, 0), self._accounts.get(account, 0) if account else 0)

    def _next_rank(self, client: str) -> int:
        """The rank of the client's next job."""
        return self._rank(client, self._clients[client].waiting[0][1])

    def _last_rank(self, client: str) -> int:
        """The rank of the client's newest job (the one evicted first)."""
        return self._rank(client, self._clients[client].waiting[-1][1])

    def push(self, job: J, client: str, *, account: str = "", priority: bool = False) -> J | None:
        """Queue a job; returns a job it pushed out (to refuse), or raises :class:`QueueFull`.

        ``account``: the username a login is for ("" for anything else).
        """
        if priority:
            if len(self._priority) >= self._max_priority:
                raise QueueFull
            self._priority.append(job)
            return None
        queue = self._clients.get(client)
        if queue is not None and len(queue.waiting) >= self._per_client:
            raise QueueFull
        evicted = None
        if self._waiting >= self._max_waiting:
            evicted = self._evict_for(self._rank(client, account))
        self._clients.setdefault(client, _Client()).waiting.append((job, account))
        self._waiting += 1
        return evicted

    def _evict_for(self, rank: int) -> J:
        """Make room for a job of ``rank`` by dropping the newest job of the last in line."""
        if not self._clients:
            raise QueueFull
        last = max(self._clients, key=self._last_rank)
        if self._last_rank(last) <= rank:
            raise QueueFull  # the newcomer would not be served sooner than anyone waiting
        queue = self._clients[last]
        job, _ = queue.waiting.pop()
        if not queue.waiting:
            del self._clients[last]
        self._waiting -= 1
        return job

    def pop(self) -> J | None:
        """The next job to run, or None when nothing waits."""
        if self._priority:
            return self._priority.popleft()
        if not self._clients:
            return None
        client = min(self._clients, key=self._next_rank)
        queue = self._clients[client]
        job, account = queue.waiting.popleft()
        if not queue.waiting:
            del self._clients[client]
        self._waiting -= 1
        self._mark_served(client, account)
        return job

    def remove(self, job: J) -> bool:
        """Take back a job that no longer wants to run (its caller went away)."""
        if job in self._priority:
            self._priority.remove(job)
            return True
        for client, queue in list(self._clients.items()):
            entry = next((entry for entry in queue.waiting if entry[0] == job), None)
            if entry is not None:
                queue.waiting.remove(entry)
                if not queue.waiting:
                    del self._clients[client]
                self._waiting -= 1
                return True
        return False

    def _mark_served(self, client: str, account: str) -> None:
        turn = next(self._turns)
        _remember(self._served, client, turn)
        if account:
            _remember(self._accounts, account, turn)


def _remember(served: OrderedDict[str, int], key: str, turn: int) -> None:
    """Note a turn; the longest-ago ones are forgotten past a bound (they rank as new)."""
    served[key] = turn
    served.move_to_end(key)
    if len(served) > MAX_REMEMBERED:
        served.popitem(last=False)
