"""Starts local devnodes on one chain, the chain clock, and (optionally) Headway in front of them.

Used by the end-to-end tests (as a library) and by the demo (`scripts/demo`).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

from chainclock import ChainClock
from devnode import OperationLog

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# HEADWAY_E2E_LOG_LEVEL=debug runs the gateway with that --log-level (its log is headway.log in the test's tmp dir).
LOG_LEVEL = ["--log-level", os.environ["HEADWAY_E2E_LOG_LEVEL"]] if os.environ.get("HEADWAY_E2E_LOG_LEVEL") else []
CHAIN_ID = 131277322940537  # eth-tester's chain id


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_until(condition, timeout=30.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def rpc(url, method, params=None, timeout=10):
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    return requests.post(url, json=body, timeout=timeout).json()


class Node:
    """One devnode process."""

    def __init__(self, net, name):
        self.net = net
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_port = free_port()
        self.ws_url = f"ws://127.0.0.1:{self.ws_port}"
        self.process = None

    def start(self):
        self.output = open(os.path.join(self.net.workdir, f"{self.name}.log"), "ab")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "devnode.py"), "--port", str(self.port), "--log", self.net.log_path, "--name", self.name,
             "--ws-port", str(self.ws_port)],
            stdout=self.output, stderr=subprocess.STDOUT,
        )
        # A restarted node replays the whole chain first (py-evm, on a machine busy with the test's
        # load): give it time.
        wait_until(lambda: rpc(self.url, "eth_blockNumber", timeout=1).get("result") is not None, timeout=90,
                   what=f"{self.name} to answer")
        return self

    def kill(self):
        """SIGKILL: the node dies with its connections, as a crashed node does."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def control(self, action):
        return requests.post(self.url + "/control", json={"action": action}, timeout=5).json()

    def stall(self):
        return self.control("stall")

    def resume(self):
        return self.control("resume")

    def fault(self, mode="none"):
        """Makes the node misbehave (see devnode.py): hang, http500, garbage, header_not_found,
        delay:SECONDS, or none."""
        return requests.post(self.url + "/control", json={"action": "fault", "mode": mode}, timeout=5).json()

    def head(self):
        return int(rpc(self.url, "eth_blockNumber")["result"], 16)


class Devnet:
    """Nodes on one chain plus the chain clock."""

    def __init__(self, workdir=None, block_time=1.0):
        self.workdir = workdir or tempfile.mkdtemp(prefix="headway-devnet-")
        self.log_path = os.path.join(self.workdir, "chain.jsonl")
        OperationLog.create(self.log_path)
        self.clock = ChainClock(self.log_path, block_time)
        self.nodes = {}

    def add(self, name):
        node = Node(self, name).start()
        self.nodes[name] = node
        return node

    def start_clock(self):
        self.clock.start()
        return self

    def stop(self):
        self.clock.stop()
        for node in self.nodes.values():
            node.kill()


class Headway:
    """The real `headway` binary in front of a devnet."""

    def __init__(self, binary, workdir, upstreams, interval="1s", max_lag=3, recover_after=2, token=None, extra="",
                 port=None, admin_port=None, drain_timeout=None):
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.admin_port = admin_port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin = f"http://127.0.0.1:{self.admin_port}"
        self.config_path = os.path.join(workdir, "headway.yaml")
        self.token = token
        lines = [
            "server:",
            f"  listen: 127.0.0.1:{self.port}",
        ]
        if drain_timeout:
            lines.append(f"  drain_timeout: {drain_timeout}")
        lines += [
            "admin:",
            f"  listen: 127.0.0.1:{self.admin_port}",
        ]
        if token:
            lines.append(f"  token: {token}")
        lines += [
            f"store: sqlite:{os.path.join(workdir, 'headway.db')}",
            "networks:",
            "  devnet:",
            f"    chain_id: {CHAIN_ID}",
            f"    health: {{ interval: {interval}, timeout: 1s, max_lag: {max_lag}, recover_after: {recover_after} }}",
            "    request: { attempt_timeout: 3s, deadline: 10s }",
            "    upstreams:",
        ]
        for upstream in upstreams:
            name, url, role = upstream[:3]
            ws = f", ws: \"{upstream[3]}\"" if len(upstream) > 3 and upstream[3] else ""
            lines.append(f"      - {{ name: {name}, url: \"{url}\", role: {role}{ws} }}")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)
        self.process = None

    def start(self, wait_ready=True):
        self.output = open(os.path.join(self.workdir, "headway.log"), "ab")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--config", self.config_path, *LOG_LEVEL], stdout=self.output, stderr=subprocess.STDOUT
        )
        wait_until(lambda: requests.get(self.admin + "/healthz", timeout=1).status_code == 200, what="headway to start")
        if wait_ready:
            wait_until(lambda: requests.get(self.admin + "/readyz", timeout=1).status_code == 200, what="headway to be ready")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        return self.process.returncode if self.process else None

    def headers(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def upstreams(self):
        return {u["name"]: u for u in requests.get(self.admin + "/api/v1/upstreams", headers=self.headers(), timeout=5).json()}

    def upstream(self, name):
        return self.upstreams().get(name)


def find_binary():
    configured = os.environ.get("HEADWAY_BIN")
    if configured:
        return configured
    for candidate in (os.path.join(ROOT, ".build", "release", "headway"), os.path.join(ROOT, ".build", "debug", "headway")):
        if os.path.exists(candidate):
            return candidate
    raise RuntimeError("headway binary not found: run `swift build` or set HEADWAY_BIN")
