"""The README's demo: two local Ethereum nodes and a fallback on one chain, Headway in front."""

import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from devnet import Devnet, Headway, find_binary, port_is_free, rpc, wait_until  # noqa: E402


def main():
    workdir = tempfile.mkdtemp(prefix="headway-demo-")
    net = Devnet(workdir=workdir, block_time=2.0)
    print("starting two nodes and a fallback (eth-tester, py-evm) ...", flush=True)
    for name in ("node-1", "node-2", "public"):
        net.add(name)
    net.start_clock()
    gateway = Headway(
        find_binary(), workdir,
        [(n, net.nodes[n].url, "fallback" if n == "public" else "primary", net.nodes[n].ws_url) for n in ("node-1", "node-2", "public")],
        interval="2s", max_lag=3,
        # The usual ports when they are free.
        port=8545 if port_is_free(8545) else None,
        admin_port=8550 if port_is_free(8550) else None,
    )
    gateway.start()
    wait_until(lambda: int(rpc(gateway.url, "eth_blockNumber")["result"], 16) > 0, what="the first block")
    head = int(rpc(gateway.url, "eth_blockNumber")["result"], 16)
    print(f"""
Headway is running (work directory {workdir}).
  JSON-RPC:   {gateway.url}        (also {gateway.url}/devnet)
  WebSocket:  {gateway.url.replace("http://", "ws://")}          (eth_subscribe: newHeads, logs, newPendingTransactions)
  admin API:  {gateway.admin}/api/v1/upstreams
  nodes:      {', '.join(f'{n}={net.nodes[n].url}' for n in net.nodes)}
  chain head: {head}

Try:
  curl -s -X POST {gateway.url} -H 'content-type: application/json' \\
       -d '{{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}}'
  $(swift build --show-bin-path)/headway upstreams list --admin {gateway.admin}
  curl -s -X POST {net.nodes['node-1'].url}/control -d '{{"action":"stall"}}'   # make node-1 lag
Ctrl-C stops everything.
""", flush=True)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        while not stop["now"] and gateway.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
        net.stop()


if __name__ == "__main__":
    main()
