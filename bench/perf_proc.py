"""Processes for bench.perf: start/stop by process group, /proc readings, network isolation.

Linux only (reads /proc). Every process is started in its own session, so stopping it ends its
children too; ``ProcessRegistry`` stops whatever still runs when the run ends, errors included.
"""

from __future__ import annotations

import errno
import fcntl
import os
import platform
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from ipaddress import ip_address
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NETNS_MARKER = "KOTOBOT_PERF_NETNS"


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _kb(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (by scanning /proc for parent ids)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def peak_rss_mb(pid: int) -> float:
    """Peak resident set (VmHWM) of ``pid`` plus its children, in MB."""
    return sum(_kb(_status(p).get("VmHWM")) for p in descendants(pid)) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by ``pid`` and its live children."""
    total = 0
    for p in descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


class ManagedProcess:
    """A server or command started in its own process group, with its start time."""

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: Path,
    ) -> None:
        self.name = name
        self.cmd = list(cmd)
        self.cwd = cwd
        self.env = dict(env)
        self.log = log
        self.process: subprocess.Popen | None = None
        self.started = 0.0
        self._log_file = None

    def start(self) -> ManagedProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log, "w")  # noqa: SIM115 (closed in stop())
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            self.cmd,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, probe: Callable[[], bool], timeout: float) -> float:
        """Seconds from start until ``probe()`` first returns True (polled every 0.1 s)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited early; see {self.log}\n{self.tail()}")
            if probe():
                return time.perf_counter() - self.started
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready within {timeout:.0f} s; see {self.log}")

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text("utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 20 s; safe to call twice."""
        if self.process is not None and self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.process is not None:
            try:  # children left behind in the group (the leader is gone)
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class ProcessRegistry:
    """Every process the run started; ``stop_all`` ends those still running (newest first)."""

    def __init__(self) -> None:
        self.processes: list[ManagedProcess] = []

    def start(self, process: ManagedProcess) -> ManagedProcess:
        self.processes.append(process)
        return process.start()

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.running()]

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def raise_on_sigterm() -> None:
    """SIGTERM/SIGHUP become SystemExit, so that ``finally`` blocks stop the servers."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


# --- network -------------------------------------------------------------------------------


def netns_available() -> bool:
    try:
        done = subprocess.run(
            ["unshare", "--net", "--map-root-user", "true"], capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def loopback_up() -> None:
    """Brings ``lo`` up in a fresh network namespace (it starts down)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, bytes(14))
        flags = struct.unpack("16sH", fcntl.ioctl(sock, siocgifflags, request)[:18])[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, bytes(14)))


def outside_unreachable() -> bool:
    """True when a TCP connection to a public address fails at once (no route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        code = sock.connect_ex(("192.0.2.1", 80))  # TEST-NET-1: never a real host
    return code in (errno.ENETUNREACH, errno.EHOSTUNREACH)


def no_proxy_env() -> dict[str, str]:
    """Env that sends proxy-aware HTTP clients to a closed local port, except for loopback."""
    closed = "http://127.0.0.1:9"
    env = {name: closed for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
    env.update({name.lower(): closed for name in env})
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    return env


def _socket_inodes(pids: list[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            for fd in fd_dir.iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    return inodes


def _address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return f"{socket.inet_ntop(socket.AF_INET, raw[::-1])}:{int(port, 16)}"
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return f"[{socket.inet_ntop(socket.AF_INET6, words)}]:{int(port, 16)}"


def _is_local(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    parsed = ip_address(host)
    mapped = getattr(parsed, "ipv4_mapped", None)
    return parsed.is_loopback or parsed.is_unspecified or bool(mapped and mapped.is_loopback)


class ConnectionWatch:
    """Samples the sockets of the run's processes every ``interval`` s; keeps non-loopback peers."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.5) -> None:
        self._pids = pids
        self.interval = interval
        self.foreign: set[str] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        pids = [os.getpid()]
        for pid in self._pids():
            pids.extend(descendants(pid))
        inodes = _socket_inodes(pids)
        for table in ("tcp", "tcp6", "udp", "udp6"):
            try:
                lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) > 9 and fields[9] in inodes:
                    remote = _address(fields[2])
                    if not _is_local(remote):
                        self.foreign.add(f"{table} {remote}")
        self.samples += 1


# --- the machine ---------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = _kb(
        dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines()).get(
            "MemTotal"
        )
    )
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": f"{memory / 1024 / 1024:.1f} GB",
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def load_average() -> float:
    return os.getloadavg()[0]
