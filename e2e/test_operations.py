"""The CLI and admin API against the real binary: persistence, errors, check-config."""

import json
import os
import signal
import subprocess
import threading
import time

import requests

from devnet import Headway, wait_until


def cli(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)


def test_upstreams_added_through_the_api_survive_a_restart(gateway, devnet, headway_binary):
    admin = ["--admin", gateway.admin]
    added = cli(headway_binary, "upstreams", "add", "node-c", devnet.nodes["node-b"].url + "/?apikey=s3cret", *admin)
    assert added.returncode == 0, added.stderr
    assert "node-c" in added.stdout and "s3cret" not in added.stdout
    removed = cli(headway_binary, "upstreams", "remove", "node-b", *admin)
    assert removed.returncode == 0, removed.stderr
    disabled = cli(headway_binary, "upstreams", "disable", "public", *admin)
    assert disabled.returncode == 0, disabled.stderr

    assert gateway.stop() == 0
    gateway.start()
    listed = cli(headway_binary, "upstreams", "list", "--json", *admin)
    assert listed.returncode == 0, listed.stderr
    upstreams = {u["name"]: u for u in json.loads(listed.stdout)}
    assert set(upstreams) == {"node-a", "node-c", "public"}
    assert upstreams["public"]["state"] == "disabled"
    assert "s3cret" not in listed.stdout
    wait_until(lambda: gateway.upstream("node-c")["healthy"], what="node-c in rotation")

    table = cli(headway_binary, "upstreams", "list", *admin)
    assert table.returncode == 0 and "NAME" in table.stdout and "node-c" in table.stdout

    duplicate = cli(headway_binary, "upstreams", "add", "node-a", devnet.nodes["node-a"].url, *admin)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr


def test_the_cli_says_when_the_gateway_cannot_be_reached(headway_binary):
    result = cli(headway_binary, "upstreams", "list", "--admin", "http://127.0.0.1:9")
    assert result.returncode != 0
    assert "cannot reach" in result.stderr


def test_malformed_requests_get_their_errors_and_the_gateway_keeps_serving(gateway):
    cases = [
        (b"not json", 200, -32700),
        (b"[]", 200, -32600),
        (b'{"jsonrpc":"2.0","id":1}', 200, -32600),
        (b'{"jsonrpc":"2.0","id":1,"method":"admin_nodeInfo","params":[]}', 200, -32004),
        (b'{"jsonrpc":"2.0","id":1,"method":"eth_noSuchMethod","params":[]}', 200, -32601),
        (b'{"jsonrpc":"2.0","id":1,"method":"eth_call","params":["' + b"a" * 6_000_000 + b'"]}', 413, -32005),
    ]
    for body, status, code in cases:
        r = requests.post(gateway.url, data=body, headers={"content-type": "application/json"})
        assert r.status_code == status, (body[:50], r.text)
        assert r.json()["error"]["code"] == code, (body[:50], r.text)
    assert requests.post(gateway.url, data=b"{").json()["id"] is None
    ok = requests.post(gateway.url, json={"jsonrpc": "2.0", "id": "x", "method": "eth_chainId", "params": []})
    assert ok.json() == {"jsonrpc": "2.0", "id": "x", "result": hex(131277322940537)}


def test_check_config_names_the_key_and_line(headway_binary, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("networks:\n  devnet:\n    chain_id: 1\n    health: { interval: soon }\n")
    result = cli(headway_binary, "check-config", str(bad))
    assert result.returncode != 0
    assert "networks.devnet.health.interval" in result.stderr and "line 4" in result.stderr
    good = tmp_path / "good.yaml"
    good.write_text("networks:\n  devnet:\n    chain_id: 1\n")
    assert cli(headway_binary, "check-config", str(good)).returncode == 0


def test_sigterm_under_load_fails_no_request_and_exits_within_the_drain_deadline(devnet, headway_binary, tmp_path):
    # Reads take a second at the nodes, so that requests are in flight when SIGTERM comes.
    for name in ("node-a", "node-b"):
        devnet.nodes[name].fault("delay:1")
    hw = Headway(
        headway_binary, str(tmp_path),
        [("node-a", devnet.nodes["node-a"].url, "primary"), ("node-b", devnet.nodes["node-b"].url, "primary")],
        drain_timeout="5s",
    )
    hw.start()
    results = []

    def client():
        session = requests.Session()
        while True:
            started = time.time()
            try:
                r = session.post(hw.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": ["0x" + "33" * 20, "latest"]}, timeout=20)
                results.append((started, r.status_code == 200 and "result" in r.json(), r.text[:200]))
            except requests.ConnectionError as e:  # refused or closed: the gateway has gone
                results.append((started, None, repr(e)))
                return

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(2.5)
    term_at = time.time()
    hw.process.send_signal(signal.SIGTERM)
    code = hw.process.wait(timeout=20)
    exited_after = time.time() - term_at
    for t in threads:
        t.join()
    for name in ("node-a", "node-b"):
        devnet.nodes[name].fault("none")

    assert code == 0
    assert exited_after < 5 + 1.5, f"exited {exited_after:.1f} s after SIGTERM (drain_timeout 5s)"
    before = [r for r in results if r[0] < term_at - 0.05]
    assert len(before) >= 8
    assert [r for r in before if r[1] is not True] == [], "a request sent before SIGTERM failed"
    assert [r for r in results if r[1] is False] == [], "no HTTP error answers at all"
    # In flight at SIGTERM: the last request of each client that started before it finished.
    in_flight = [r for r in before if r[0] > term_at - 1.0]
    assert len(in_flight) >= 4, in_flight
