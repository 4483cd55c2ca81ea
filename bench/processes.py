"""Processes and plain HTTP: CPU pinning, free ports, one-off requests, /proc figures."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess  # nosec B404  # stops the servers and wrk this benchmark started
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
SERVER_CPU = 0
LOADGEN_CPU = 1
REQUEST_TIMEOUT = 30.0  # bcrypt-bound logins queue for seconds; never count them as errors

Headers = tuple[tuple[str, str], ...]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Pinning:
    """Which CPU each side runs on, when the machine has two to give."""

    enabled: bool
    taskset: str | None

    @classmethod
    def detect(cls, wanted: bool) -> Pinning:
        """Pin only on Linux with CPUs 0 and 1 both allowed."""
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        able = wanted and {SERVER_CPU, LOADGEN_CPU} <= cpus
        return cls(able, shutil.which("taskset") if able else None)

    def prefix(self, cpu: int) -> list[str]:
        """``taskset -c CPU`` to run a command on one CPU (all of its threads)."""
        return [self.taskset, "-c", str(cpu)] if self.enabled and self.taskset else []

    def after_spawn(self, pid: int, cpu: int) -> None:
        """Without taskset, pin a fresh child before it starts any thread."""
        if self.enabled and not self.taskset:
            os.sched_setaffinity(pid, {cpu})

    def pin_self(self) -> None:
        """The in-process load generator runs on the load generator's CPU."""
        if self.enabled:
            os.sched_setaffinity(0, {LOADGEN_CPU})

    def describe(self) -> str:
        """One line for the report."""
        if not self.enabled:
            return "not pinned"
        how = "taskset" if self.taskset else "sched_setaffinity"
        return f"servers on CPU {SERVER_CPU}, load generator on CPU {LOADGEN_CPU} ({how})"


def http_call(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    headers: Headers = (),
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request over a fresh connection: status, headers, body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers))
        response = conn.getresponse()
        return response.status, response.msg, response.read()
    finally:
        conn.close()


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after five seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def proc_status_kb(pid: int, name: str) -> int | None:
    """A ``VmRSS``/``VmHWM`` line of /proc/PID/status in kB, if there is one."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    found = re.search(rf"^{name}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) if found else None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process and all its threads, from /proc/PID/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # fields 3 onwards; utime and stime are 14, 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
