"""Chain consistency and sticky filters through the real gateway, with one node lagging a few
blocks behind the other while both stay in rotation."""

import contextlib
import threading

import requests

from devnet import Headway, rpc, wait_until


def gateway_with_lagging_node(devnet, headway_binary, tmp_path):
    """node-a a few blocks behind node-b, both in rotation (max_lag 50)."""
    hw = Headway(
        headway_binary, str(tmp_path),
        [("node-a", devnet.nodes["node-a"].url, "primary"), ("node-b", devnet.nodes["node-b"].url, "primary")],
        max_lag=50,
    )
    hw.start()
    wait_until(lambda: all(u["healthy"] for u in hw.upstreams().values()), what="both nodes in rotation")
    a = devnet.nodes["node-a"]
    a.stall()
    stalled_at = a.head()
    wait_until(lambda: devnet.nodes["node-b"].head() >= stalled_at + 3, timeout=15, what="node-a to fall 3 blocks behind")
    wait_until(lambda: hw.upstream("node-a")["lag"] >= 3, timeout=5, what="the gateway to see node-a lag")
    assert hw.upstream("node-a")["healthy"]
    return hw


@contextlib.contextmanager
def background_load(url, clients=2):
    """Other clients reading meanwhile, so that both nodes are busy and both take traffic."""
    stop = threading.Event()

    def run():
        session = requests.Session()
        while not stop.is_set():
            # Not eth_chainId: the response cache would answer it without a node.
            session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_gasPrice", "params": []})

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join()


def call(session, url, method, params, i):
    r = session.post(url, json={"jsonrpc": "2.0", "id": i, "method": method, "params": params}, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "result" in body, body
    return body["result"], r.headers.get("x-headway-upstream")


def test_block_number_never_goes_back_and_the_newest_block_is_never_null(devnet, headway_binary, tmp_path):
    hw = gateway_with_lagging_node(devnet, headway_binary, tmp_path)
    try:
        session = requests.Session()
        newest, answered_by = 0, set()
        with background_load(hw.url):
            for i in range(1000):
                result, upstream = call(session, hw.url, "eth_blockNumber", [], i)
                number = int(result, 16)
                assert number >= newest, f"answer {i}: eth_blockNumber went back from {newest} to {number}"
                newest = number
                answered_by.add(upstream)
                if i % 5 == 0:
                    block, upstream = call(session, hw.url, "eth_getBlockByNumber", [hex(number), False], i)
                    assert block is not None, f"block {number} came back null from {upstream}"
                    assert int(block["number"], 16) == number
        # Both nodes took traffic: the lagging one answered too, and was never believed.
        assert answered_by == {"node-a", "node-b"}, answered_by
    finally:
        devnet.nodes["node-a"].resume()
        assert hw.stop() == 0


def test_a_filter_keeps_working_while_the_other_node_takes_traffic(devnet, headway_binary, tmp_path):
    hw = Headway(
        headway_binary, str(tmp_path),
        [("node-a", devnet.nodes["node-a"].url, "primary"), ("node-b", devnet.nodes["node-b"].url, "primary")],
    )
    hw.start()
    try:
        wait_until(lambda: all(u["healthy"] for u in hw.upstreams().values()), what="both nodes in rotation")
        session = requests.Session()
        filter_id, owner = call(session, hw.url, "eth_newBlockFilter", [], 0)
        other_traffic, seen_blocks = set(), []
        for i in range(100):
            changes, upstream = call(session, hw.url, "eth_getFilterChanges", [filter_id], i)
            assert isinstance(changes, list), changes
            assert upstream == owner
            seen_blocks += changes
            for j in range(3):
                _, upstream = call(session, hw.url, "eth_getBalance", ["0x" + "11" * 20, "latest"], 1000 + 3 * i + j)
                other_traffic.add(upstream)
        assert other_traffic == {"node-a", "node-b"}, "the other node took traffic meanwhile"
        assert len(seen_blocks) >= 1, "the filter saw new blocks"
        assert len(seen_blocks) == len(set(seen_blocks)), "no block twice"
        uninstalled, upstream = call(session, hw.url, "eth_uninstallFilter", [filter_id], 5000)
        assert uninstalled is True and upstream == owner
        gone = session.post(hw.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getFilterChanges", "params": [filter_id]}).json()
        # The node's own answer for a filter it no longer has (eth-tester: null; geth: an error).
        assert "error" in gone or gone["result"] is None, gone
        assert rpc(hw.url, "eth_getFilterChanges", ["0x1234"]).get("error"), "an id Headway never made is not found"
    finally:
        assert hw.stop() == 0
