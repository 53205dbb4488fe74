"""WebSocket through the real gateway: calls, batches, and subscriptions that outlive the node
behind them."""

import asyncio
import json
import threading
import time

import websockets
from web3 import AsyncWeb3, HTTPProvider, Web3, WebSocketProvider

from devnet import Headway, rpc, wait_until
from evm import ACCOUNT_ONE, INIT


def ws_url(gateway):
    return gateway.url.replace("http://", "ws://")


def test_calls_and_a_batch_over_websocket(gateway, devnet):
    direct = Web3(HTTPProvider(devnet.nodes["node-a"].url))
    wait_until(lambda: direct.eth.block_number >= 2, what="a few blocks")

    async def run():
        async with AsyncWeb3(WebSocketProvider(ws_url(gateway))) as w3:
            assert await w3.eth.chain_id == direct.eth.chain_id
            number = await w3.eth.block_number
            assert abs(number - direct.eth.block_number) <= 1
            assert await w3.eth.get_block(number - 1) == direct.eth.get_block(number - 1)
            assert await w3.eth.get_balance(ACCOUNT_ONE, number - 1) == direct.eth.get_balance(ACCOUNT_ONE, number - 1)
        # A batch, in a binary frame as web3.py sends, with ids of every kind.
        async with websockets.connect(ws_url(gateway) + "/devnet") as ws:
            batch = [
                {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                {"jsonrpc": "2.0", "id": "two", "method": "eth_blockNumber", "params": []},
                {"jsonrpc": "2.0", "method": "eth_chainId", "params": []},
                {"jsonrpc": "2.0", "id": None, "method": "eth_noSuchMethod", "params": []},
            ]
            await ws.send(json.dumps(batch).encode())
            answer = json.loads(await ws.recv())
            assert [a["id"] for a in answer] == [1, "two", None]
            assert answer[0]["result"] == hex(direct.eth.chain_id)
            assert answer[2]["error"]["code"] == -32601
            await ws.send("not json")
            assert json.loads(await ws.recv())["error"]["code"] == -32700
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 5, "method": "eth_subscribe", "params": ["nonsense"]}))
            assert json.loads(await ws.recv())["error"]["code"] == -32602
            # Subscribe, get a head, unsubscribe: true once, then false.
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 6, "method": "eth_subscribe", "params": ["newHeads"]}))
            subscription = json.loads(await ws.recv())["result"]
            head = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            assert head["method"] == "eth_subscription" and head["params"]["subscription"] == subscription
            # node-a may be a few milliseconds behind the node that served the header.
            number = head["params"]["result"]["number"]
            block = await asyncio.to_thread(wait_for_block, devnet.nodes["node-a"].url, number)
            assert head["params"]["result"] == {k: v for k, v in block.items()
                                                if k not in ("transactions", "uncles", "size", "totalDifficulty", "withdrawals")}
            for expected in (True, False):
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "eth_unsubscribe", "params": [subscription]}))
                while (answer := json.loads(await ws.recv())).get("id") != 7:
                    pass  # a notification sent before the unsubscribe
                assert answer["result"] is expected

    asyncio.run(run())


def wait_for_block(url, number):
    """The block from a node, once it has it."""
    wait_until(lambda: rpc(url, "eth_getBlockByNumber", [number, False])["result"] is not None, timeout=10, what=f"block {number}")
    return rpc(url, "eth_getBlockByNumber", [number, False])["result"]


def emit_events(devnet, contract, stop, sent):
    """A transaction that logs, every half second, sent straight to the chain."""
    i = 0
    while not stop.wait(0.5):
        try:
            data = "0x" + i.to_bytes(4, "big").hex()
            rpc(devnet.nodes["public"].url, "eth_sendTransaction", [{"from": ACCOUNT_ONE, "to": contract, "data": data, "gas": hex(100_000)}])
            sent.append(data)
            i += 1
        except Exception:
            pass


def test_subscriptions_survive_the_nodes_behind_them(gateway, devnet):
    deploy = rpc(devnet.nodes["public"].url, "eth_sendTransaction", [{"from": ACCOUNT_ONE, "data": INIT, "gas": hex(200_000)}])["result"]
    wait_until(lambda: rpc(gateway.url, "eth_getTransactionReceipt", [deploy])["result"] is not None, what="the contract")
    contract = rpc(gateway.url, "eth_getTransactionReceipt", [deploy])["result"]["contractAddress"]
    a, b = devnet.nodes["node-a"], devnet.nodes["node-b"]
    stop, sent = threading.Event(), []
    emitter = threading.Thread(target=emit_events, args=(devnet, contract, stop, sent))

    async def run():
        heads, logs, ids = [], [], {}
        async with AsyncWeb3(WebSocketProvider(ws_url(gateway))) as w3:
            ids["heads"] = await w3.eth.subscribe("newHeads")
            ids["logs"] = await w3.eth.subscribe("logs", {"address": contract})

            async def collect():
                async for message in w3.socket.process_subscriptions():
                    if message["subscription"] == ids["heads"]:
                        heads.append(message["result"]["number"])
                    else:
                        assert message["subscription"] == ids["logs"]
                        logs.append(message["result"])

            collector = asyncio.create_task(collect())
            emitter.start()
            await asyncio.sleep(3)
            # Every node behind the subscriptions dies and comes back in turn.
            for node in (a, b):
                node.kill()
                await asyncio.sleep(3)
                await asyncio.to_thread(node.start)
                await asyncio.sleep(3)
            stop.set()
            await asyncio.sleep(3)
            assert await w3.eth.unsubscribe(ids["logs"])
            settled = len(logs)
            await asyncio.sleep(2)
            assert len(logs) == settled, "no logs after eth_unsubscribe"
            collector.cancel()
        return heads, logs

    heads, logs = asyncio.run(run())
    emitter.join()
    # newHeads: every block once, in order, no gap.
    assert len(heads) >= 15, heads
    assert heads == list(range(heads[0], heads[0] + len(heads))), heads
    # logs: every event of the blocks covered, once, in order.
    first, last = logs[0]["blockNumber"], heads[-1]
    expected = [log for log in rpc(devnet.nodes["public"].url, "eth_getLogs", [{"fromBlock": hex(first), "toBlock": hex(last), "address": contract}])["result"]]
    got = [(log["blockNumber"], log["logIndex"], log["data"].hex() if isinstance(log["data"], bytes) else log["data"]) for log in logs]
    assert [int(g[0]) for g in got] == sorted(int(g[0]) for g in got)
    assert len(got) == len(set(got)), "no log twice"
    assert [(int(e["blockNumber"], 16), int(e["logIndex"], 16)) for e in expected] == [(int(g[0]), int(g[1])) for g in got if int(g[0]) <= last]


def test_heads_pushed_by_the_nodes_websockets_reach_subscribers_without_polling(devnet, headway_binary, tmp_path):
    a, b = devnet.nodes["node-a"], devnet.nodes["node-b"]
    # The hub polls only every 30 s: blocks arriving every second come from the nodes' pushes.
    hw = Headway(headway_binary, str(tmp_path), [("node-a", a.url, "primary", a.ws_url), ("node-b", b.url, "primary", b.ws_url)],
                 extra="    subscriptions: { poll_interval: 30s }\n")
    hw.start()
    try:
        wait_until(lambda: all(u["ws_state"] == "subscribed" for u in hw.upstreams().values()), timeout=15, what="both feeds subscribed")

        async def heads_for(seconds, during=None):
            numbers = []
            async with websockets.connect(ws_url(hw)) as ws:
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}))
                json.loads(await ws.recv())
                loop = asyncio.get_running_loop()
                end = loop.time() + seconds
                if during:
                    loop.call_later(1.0, during)
                while (left := end - loop.time()) > 0:
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=left))
                    except asyncio.TimeoutError:
                        break
                    numbers.append(int(message["params"]["result"]["number"], 16))
            return numbers

        numbers = asyncio.run(heads_for(6))
        assert len(numbers) >= 4, numbers
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        # One node's feed dies with it; the other's carries on, and the dead one reconnects.
        numbers = asyncio.run(heads_for(6, during=a.kill))
        assert len(numbers) >= 4, numbers
        assert hw.upstream("node-a")["ws_state"] in ("connecting", "disconnected")
        a.start()
        wait_until(lambda: hw.upstream("node-a")["ws_state"] == "subscribed", timeout=20, what="node-a's feed back")
    finally:
        assert hw.stop() == 0
