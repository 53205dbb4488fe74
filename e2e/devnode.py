"""A small local Ethereum node for tests and the demo: eth-tester with the py-evm backend behind
an HTTP JSON-RPC server.

Several devnodes follow one chain through a shared operation log (a JSON-lines file): every
transaction a node receives and every block the chain clock mines is appended there, and each
node applies the log in order. Blocks are deterministic (prevrandao derived from the block
number, timestamps taken from the log, one genesis timestamp), so nodes started alike hold the
same blocks with the same hashes. A node can be told to stall (stop applying the log: it lags)
and to resume (it catches up), and a restarted node replays the log from the start.

With --ws-port it also serves JSON-RPC over WebSocket, `eth_subscribe` ("newHeads", "logs")
included, from eth-tester's own filters.

Control endpoint: POST /control with {"action": "stall" | "resume" | "status"}, or
{"action": "fault", "mode": MODE} to make the node misbehave on JSON-RPC requests until
{"action": "fault", "mode": "none"}:
- "hang": accept the request and never answer (the connection is dropped when the fault ends);
- "http500": answer every request with HTTP 500;
- "garbage": answer every request with HTTP 200 and a body that is not JSON;
- "header_not_found": answer data reads with "header not found" (a pruned or damaged node),
  while eth_chainId, eth_blockNumber and eth_syncing still answer, so health rounds pass;
- "delay:SECONDS": answer data reads after a delay (health probes stay quick).
"""

import argparse
import asyncio
import fcntl
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets
from eth.vm.forks import PragueVM
from eth.vm.forks.cancun import get_total_blob_gas
from eth_hash.auto import keccak
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed, ValidationError
from eth_utils.exceptions import ValidationError as EVMValidationError
from web3.providers.eth_tester.defaults import API_ENDPOINTS
from web3.providers.eth_tester.middleware import request_formatters, result_formatters

WRITE_METHODS = {"eth_sendTransaction", "eth_sendRawTransaction"}
PROBE_METHODS = {"eth_chainId", "eth_blockNumber", "eth_syncing", "net_version", "web3_clientVersion"}


class DeterministicBackend(PyEVMBackend):
    """py-evm backend whose blocks depend only on the operation log: prevrandao is derived
    from the block number (eth-tester draws it at random) and the timestamp comes from the log."""

    next_timestamp = None

    def mine_blocks(self, num_blocks=1, coinbase=b"\x00" * 20):
        hashes = []
        for _ in range(num_blocks):
            pending = self.chain.get_block()
            kwargs = {"coinbase": coinbase, "mix_hash": keccak(pending.number.to_bytes(32, "big"))}
            if self.next_timestamp is not None:
                kwargs["timestamp"] = self.next_timestamp
            if isinstance(self.chain.get_vm(), PragueVM):
                kwargs["blob_gas_used"] = sum(get_total_blob_gas(tx) for tx in pending.transactions)
            hashes.append(self.chain.mine_block(**kwargs).hash)
        return tuple(hashes)


class OperationLog:
    """The shared, append-only log: line 1 is the genesis, then txs and mined blocks."""

    def __init__(self, path):
        self.path = path

    @staticmethod
    def create(path, genesis_timestamp=None):
        with open(path, "w") as f:
            f.write(json.dumps({"op": "genesis", "timestamp": genesis_timestamp or int(time.time()) - 3600}) + "\n")

    def append(self, ops):
        """Appends ops under an exclusive lock; returns the index of the first one."""
        with open(self.path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.seek(0)
                lines = f.read().splitlines()
                last_ts = max(json.loads(line).get("timestamp", 0) for line in lines)
                out = []
                for op in ops:
                    if op["op"] == "mine":
                        last_ts = max(last_ts + 1, int(time.time()))
                        op = dict(op, timestamp=last_ts)
                    out.append(json.dumps(op))
                f.seek(0, os.SEEK_END)
                f.write("\n".join(out) + "\n")
                f.flush()
                return len(lines)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def read_from(self, index):
        with open(self.path) as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            try:
                lines = f.read().splitlines()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return [json.loads(line) for line in lines[index:]]


def to_wire(value):
    """Python results of eth-tester to JSON-RPC wire format (quantities as hex)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


class DevNode:
    def __init__(self, log_path, name):
        self.log = OperationLog(log_path)
        self.name = name
        genesis = self.log.read_from(0)[0]
        params = PyEVMBackend.generate_genesis_params(overrides={"timestamp": genesis["timestamp"]})
        self.backend = DeterministicBackend(genesis_parameters=params)
        self.tester = EthereumTester(self.backend, auto_mine_transactions=False)
        self.lock = threading.RLock()
        self.applied = 1  # log lines applied (the genesis is line 0)
        self.results = {}  # log index -> result of a tx op
        self.stalled = False
        self.fault = "none"
        self.changed = threading.Condition(self.lock)

    # -- the log --------------------------------------------------------------------------
    def apply_pending(self):
        if self.stalled:
            return
        # The log is read under the lock: the follower thread and a write waiting for its entry
        # both call this, and each must start where the other stopped (or an entry applies twice).
        with self.lock:
            ops = self.log.read_from(self.applied)
            for op in ops:
                index = self.applied
                self.results[index] = self.apply(op)
                self.applied += 1
            self.changed.notify_all()

    def apply(self, op):
        try:
            if op["op"] == "mine":
                self.backend.next_timestamp = op["timestamp"]
                self.tester.mine_blocks(1)
                return None
            if op["op"] == "raw":
                return {"result": self.tester.send_raw_transaction(op["tx"])}
            if op["op"] == "send":
                return {"result": self.tester.send_transaction(op["tx"])}
        # py-evm raises eth_utils' ValidationError (e.g. a nonce already used: the same raw
        # transaction can be in the log twice when a node took it and was killed before answering,
        # and the gateway asked another); that is the transaction's error, not the node's: replaying it must not crash a
        # restarted node or stop a running one at that entry.
        except (TransactionFailed, ValidationError, EVMValidationError, ValueError) as e:
            return {"error": {"code": -32000, "message": str(e)}}
        return None

    def follow(self):
        while True:
            try:
                self.apply_pending()
            except Exception as e:  # keep following; a bad op must not kill the node
                print(f"{self.name}: applying the log failed: {e!r}", file=sys.stderr)
            time.sleep(0.05)

    # -- JSON-RPC ---------------------------------------------------------------------------
    def handle(self, request):
        if not isinstance(request, dict) or "method" not in request:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
        method = request["method"]
        params = request.get("params", [])
        response = {"jsonrpc": "2.0", "id": request.get("id")}
        try:
            if self.fault == "header_not_found" and method not in PROBE_METHODS and method not in WRITE_METHODS:
                outcome = {"error": {"code": -32000, "message": "header not found"}}
            elif method in WRITE_METHODS:
                outcome = self.write(method, params)
            else:
                outcome = self.read(method, params)
        except Exception as e:
            outcome = {"error": {"code": -32000, "message": str(e)}}
        response.update(outcome)
        return response if "id" in request else None

    def read(self, method, params):
        if method == "web3_clientVersion":
            return {"result": f"headway-devnode/{self.name}"}
        if method == "eth_syncing":
            return {"result": False}
        namespace, _, endpoint = method.partition("_")
        delegator = API_ENDPOINTS.get(namespace, {}).get(endpoint)
        if delegator is None:
            return {"error": {"code": -32601, "message": f"the method {method} does not exist/is not available"}}
        if method in request_formatters:
            params = request_formatters[method](params)
        with self.lock:
            try:
                result = delegator(self.tester, params)
            except TransactionFailed as e:
                return {"error": {"code": 3, "message": f"execution reverted: {e}"}}
            except NotImplementedError:
                return {"error": {"code": -32601, "message": f"the method {method} is not implemented"}}
        if method in result_formatters:
            result = result_formatters[method](result)
        return {"result": to_wire(result)}

    def write(self, method, params):
        if method == "eth_sendRawTransaction" and self.stalled:
            # A lagging node still takes transactions into its pool (here: the shared log) and
            # answers with the hash; it applies them once it catches up.
            self.log.append([{"op": "raw", "tx": params[0]}, {"op": "mine"}])
            return {"result": "0x" + keccak(bytes.fromhex(params[0][2:])).hex()}
        if self.stalled:
            return {"error": {"code": -32000, "message": "node is stalled"}}
        if method == "eth_sendRawTransaction":
            op = {"op": "raw", "tx": params[0]}
        else:
            tx = dict(request_formatters[method](params)[0])
            if "gas" not in tx:
                with self.lock:
                    tx["gas"] = self.tester.estimate_gas({k: v for k, v in tx.items() if k != "nonce"})
            op = {"op": "send", "tx": tx}
        # Automine: each transaction is followed by a block, as eth-tester does by default.
        index = self.log.append([op, {"op": "mine"}])
        deadline = time.time() + 10
        with self.changed:
            while self.applied <= index and time.time() < deadline:
                self.changed.wait(0.1)
                if self.applied <= index:
                    self.changed.release()
                    try:
                        self.apply_pending()
                    finally:
                        self.changed.acquire()
            outcome = self.results.get(index)
        if outcome is None:
            return {"error": {"code": -32000, "message": "transaction not applied in time"}}
        if "result" in outcome:
            return {"result": to_wire(outcome["result"])}
        return outcome


HEADER_ONLY = ("transactions", "uncles", "size", "totalDifficulty", "withdrawals")


class WebSocketFront:
    """JSON-RPC over WebSocket, with eth_subscribe ("newHeads", "logs") served from eth-tester's
    own filters, polled every 50 ms. Runs its own asyncio loop in a thread."""

    def __init__(self, node, port):
        self.node = node
        self.port = port

    def start(self):
        threading.Thread(target=lambda: asyncio.run(self.serve()), daemon=True).start()

    async def serve(self):
        async with websockets.serve(self.connection, "127.0.0.1", self.port, max_size=None):
            await asyncio.Future()

    async def call(self, method, params):
        return await asyncio.to_thread(self.node.read, method, params)

    async def connection(self, websocket):
        subscriptions = {}
        try:
            async for raw in websocket:
                try:
                    request = json.loads(raw)
                except ValueError:
                    await websocket.send(json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}))
                    continue
                method = request.get("method") if isinstance(request, dict) else None
                if method == "eth_subscribe":
                    await websocket.send(json.dumps(await self.subscribe(websocket, request, subscriptions)))
                elif method == "eth_unsubscribe":
                    task = subscriptions.pop((request.get("params") or [None])[0], None)
                    if task:
                        task.cancel()
                    await websocket.send(json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "result": task is not None}))
                elif isinstance(request, list):
                    answers = await asyncio.gather(*(asyncio.to_thread(self.node.handle, r) for r in request))
                    await websocket.send(json.dumps([a for a in answers if a is not None]))
                else:
                    answer = await asyncio.to_thread(self.node.handle, request)
                    if answer is not None:
                        await websocket.send(json.dumps(answer))
        except websockets.ConnectionClosed:
            pass
        finally:
            for task in subscriptions.values():
                task.cancel()

    async def subscribe(self, websocket, request, subscriptions):
        params = request.get("params") or []
        kind = params[0] if params else None
        if kind == "newHeads":
            created = await self.call("eth_newBlockFilter", [])
        elif kind == "logs":
            created = await self.call("eth_newFilter", [params[1] if len(params) > 1 else {}])
        else:
            return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": -32602, "message": f"unsupported subscription {kind!r}"}}
        subscription = "0x" + os.urandom(16).hex()
        subscriptions[subscription] = asyncio.create_task(self.follow(websocket, subscription, kind, created["result"]))
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": subscription}

    async def follow(self, websocket, subscription, kind, filter_id):
        while True:
            await asyncio.sleep(0.05)
            changes = (await self.call("eth_getFilterChanges", [filter_id])).get("result") or []
            for change in changes:
                if kind == "newHeads":
                    block = (await self.call("eth_getBlockByHash", [change, False]))["result"]
                    change = {k: v for k, v in block.items() if k not in HEADER_ONLY}
                message = {"jsonrpc": "2.0", "method": "eth_subscription", "params": {"subscription": subscription, "result": change}}
                await websocket.send(json.dumps(message))


def make_handler(node):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("content-length", 0))
            raw = self.rfile.read(length)
            if self.path == "/control":
                command = json.loads(raw or b"{}")
                action = command.get("action")
                if action == "stall":
                    node.stalled = True
                elif action == "resume":
                    node.stalled = False
                elif action == "fault":
                    node.fault = command.get("mode", "none")
                with node.lock:
                    head = node.backend.chain.get_canonical_head().block_number
                return self.reply(200, {"name": node.name, "stalled": node.stalled, "fault": node.fault, "head": head})
            fault = node.fault
            if fault == "hang":
                while node.fault == "hang":
                    time.sleep(0.05)
                self.close_connection = True
                return
            if fault == "http500":
                return self.reply(500, {"error": "internal server error"})
            if fault == "garbage":
                data = b'{"jsonrpc": "2.0", "id": 1, "result": 0x<html>oops'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            try:
                request = json.loads(raw)
            except ValueError:
                return self.reply(200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            if fault.startswith("delay:") and not (isinstance(request, dict) and request.get("method") in PROBE_METHODS):
                time.sleep(float(fault.split(":", 1)[1]))
            if isinstance(request, list):
                answers = [a for a in (node.handle(r) for r in request) if a is not None]
                return self.reply(200, answers)
            answer = node.handle(request)
            self.reply(200, answer)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True, help="the shared operation log (created if missing)")
    parser.add_argument("--name", default="devnode")
    parser.add_argument("--ws-port", type=int, help="also serve JSON-RPC and eth_subscribe over WebSocket")
    args = parser.parse_args()
    if not os.path.exists(args.log):
        OperationLog.create(args.log)
    node = DevNode(args.log, args.name)
    node.apply_pending()
    threading.Thread(target=node.follow, daemon=True).start()
    if args.ws_port:
        WebSocketFront(node, args.ws_port).start()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(node))
    server.daemon_threads = True
    print(f"{args.name} listening on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
