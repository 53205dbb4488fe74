"""Real nodes die, lag and come back behind the real gateway: no client request fails."""

import threading
import time

import requests

from devnet import wait_until


def read_load(gateway, stop, results):
    session = requests.Session()
    methods = [("eth_blockNumber", []), ("eth_getBalance", ["0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", "latest"]),
               ("eth_getBlockByNumber", ["latest", False]),
               ("eth_getTransactionCount", ["0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", "latest"])]
    # (Nothing the response cache answers: which upstream served each request is checked.)
    i = 0
    while not stop.is_set():
        method, params = methods[i % len(methods)]
        i += 1
        try:
            r = session.post(gateway.url, json={"jsonrpc": "2.0", "id": i, "method": method, "params": params}, timeout=15)
            body = r.json()
            ok = r.status_code == 200 and "result" in body and body["id"] == i
            results.append((ok, r.headers.get("x-headway-upstream"), None if ok else r.text))
        except Exception as e:  # a failed request is a failure, whatever the cause
            results.append((False, None, repr(e)))


def run_load(gateway, action, clients=6, before=1.0, after=2.0):
    stop = threading.Event()
    results = []
    threads = [threading.Thread(target=read_load, args=(gateway, stop, results)) for _ in range(clients)]
    for t in threads:
        t.start()
    time.sleep(before)
    action()
    time.sleep(after)
    stop.set()
    for t in threads:
        t.join()
    return results


def test_killing_a_node_under_load_fails_no_request(gateway, devnet):
    a = devnet.nodes["node-a"]
    results = run_load(gateway, a.kill)
    failures = [r for r in results if not r[0]]
    assert len(results) > 50
    assert failures == [], failures[:5]
    wait_until(lambda: gateway.upstream("node-a")["state"] == "unreachable", timeout=5, what="node-a unreachable")

    # It comes back (replaying the chain) and takes traffic again.
    a.start()
    wait_until(lambda: gateway.upstream("node-a")["healthy"], timeout=20, what="node-a back in rotation")


def test_a_lagging_node_leaves_rotation_and_returns(gateway, devnet):
    a = devnet.nodes["node-a"]
    wait_until(lambda: gateway.upstream("node-a")["healthy"], what="node-a in rotation")
    a.stall()
    stalled_at = a.head()
    # max_lag is 3 and a block comes every second: a is more than 3 behind after ~4 blocks.
    wait_until(lambda: gateway.upstream("node-b")["head"] - stalled_at > 3, timeout=15, what="the chain to move on")
    over_lag_at = time.time()
    wait_until(lambda: gateway.upstream("node-a")["state"] == "lagging", timeout=10, what="node-a lagging")
    # Within one interval (1 s), plus the block that pushed it over and a probe.
    assert time.time() - over_lag_at < 2.5
    assert not gateway.upstream("node-a")["healthy"]
    served_by = set()
    for i in range(30):
        r = requests.post(gateway.url, json={"jsonrpc": "2.0", "id": i, "method": "eth_blockNumber", "params": []})
        served_by.add(r.headers.get("x-headway-upstream"))
    assert "node-a" not in served_by

    a.resume()
    wait_until(lambda: gateway.upstream("node-a")["state"] == "healthy", timeout=15, what="node-a caught up")
    healthy_at = time.time()
    assert not gateway.upstream("node-a")["healthy"], "back in rotation only after recover_after good rounds"
    wait_until(lambda: gateway.upstream("node-a")["healthy"], timeout=10, what="node-a back in rotation")
    assert time.time() - healthy_at >= 0.5


def test_the_fallback_serves_while_every_primary_is_down(gateway, devnet):
    a, b = devnet.nodes["node-a"], devnet.nodes["node-b"]
    wait_until(lambda: gateway.upstream("node-a")["healthy"] and gateway.upstream("node-b")["healthy"], what="primaries")

    def kill_both():
        a.kill()
        b.kill()

    results = run_load(gateway, kill_both, clients=4, before=0.5, after=2.0)
    assert [r for r in results if not r[0]] == []
    late = [r[1] for r in results[-20:]]
    assert set(late) == {"public"}, late

    a.start()
    b.start()
    wait_until(lambda: gateway.upstream("node-a")["healthy"] or gateway.upstream("node-b")["healthy"], timeout=20, what="a primary back")
    served_by = {
        requests.post(gateway.url, json={"jsonrpc": "2.0", "id": i, "method": "eth_blockNumber", "params": []}).headers.get("x-headway-upstream")
        for i in range(20)
    }
    assert "public" not in served_by
