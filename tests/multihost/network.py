"""App hosts as network namespaces on this machine, joined to the root namespace by veth pairs.

The root namespace gets a bridge with the first address of a private /24 (where the shared PostgreSQL,
Redis and the balancer live); each host gets a namespace of its own, a veth pair whose inner end has the
next address, and its own loopback. Traffic between a host and the root namespace crosses the veth link,
as it would cross a network between machines. Everything is removed on exit, on failure too.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field

FIRST_NETWORK = ipaddress.IPv4Network("10.231.0.0/24")
"""Networks are tried from here on (10.231.0.0/24, 10.231.1.0/24, ...) until one is unused here."""


@dataclass
class Host:
    """One network namespace: its name and its address on the shared /24."""

    namespace: str
    address: str

    def command(self, *argv: str) -> list[str]:
        """``argv`` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]


@dataclass
class HostNetwork:
    """A bridge in the root namespace and one namespace per host (see the module's docstring)."""

    names: list[str]
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    hosts: dict[str, Host] = field(default_factory=dict)
    gateway: str = ""
    network: str = ""
    _links: list[str] = field(default_factory=list)

    @property
    def bridge(self) -> str:
        return f"cxb{self.tag}"  # interface names have at most 15 characters

    def __enter__(self) -> HostNetwork:
        try:
            self._build()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()

    def _build(self) -> None:
        subnet = _unused_network()
        addresses = list(subnet.hosts())
        self.network, self.gateway = str(subnet), str(addresses[0])
        _ip("link", "add", self.bridge, "type", "bridge")
        self._links.append(self.bridge)
        _ip("addr", "add", f"{self.gateway}/{subnet.prefixlen}", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for index, name in enumerate(self.names, start=1):
            host = Host(f"cx-{self.tag}-{name}", str(addresses[index]))
            outer, inner = f"cxv{self.tag}{index}", f"cxi{self.tag}{index}"
            _ip("netns", "add", host.namespace)
            self.hosts[name] = host
            _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            self._links.append(outer)  # removing one end removes the pair
            _ip("link", "set", inner, "netns", host.namespace)
            _ip("link", "set", outer, "master", self.bridge)
            _ip("link", "set", outer, "up")
            inside = ["-n", host.namespace]
            _ip(*inside, "addr", "add", f"{host.address}/{subnet.prefixlen}", "dev", inner)
            _ip(*inside, "link", "set", inner, "up")
            _ip(*inside, "link", "set", "lo", "up")

    def remove(self) -> None:
        """Kill whatever still runs in the namespaces, then delete them, the veths and the bridge."""
        for host in self.hosts.values():
            _kill_namespace_processes(host.namespace)
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True, check=False)
        for link in reversed(self._links):
            subprocess.run(["ip", "link", "del", link], capture_output=True, check=False)
        self.hosts.clear()
        self._links.clear()


def _kill_namespace_processes(namespace: str) -> None:
    """SIGKILL every process left in ``namespace`` (only this test starts processes there)."""
    for _ in range(50):
        listed = subprocess.run(
            ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
        )
        pids = [int(pid) for pid in listed.stdout.split()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def _unused_network() -> ipaddress.IPv4Network:
    """The first /24 from FIRST_NETWORK on that no interface of this machine has an address in."""
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True)
    used = [ipaddress.IPv4Interface(line.split()[3]).network for line in shown.stdout.splitlines()]
    for offset in range(256):
        candidate = ipaddress.IPv4Network((int(FIRST_NETWORK.network_address) + offset * 256, 24))
        if not any(candidate.overlaps(network) for network in used):
            return candidate
    raise RuntimeError(f"no unused /24 from {FIRST_NETWORK} on")


def _ip(*argv: str) -> None:
    result = subprocess.run(["ip", *argv], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
