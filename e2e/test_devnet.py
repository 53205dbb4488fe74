"""The local devnet itself: what the other end-to-end tests rely on."""

from devnet import CHAIN_ID, Devnet, rpc
from evm import ACCOUNT_ONE, signed_call


def raw(nonce):
    return "0x" + signed_call(ACCOUNT_ONE, "0x", nonce, CHAIN_ID).raw_transaction.hex().removeprefix("0x")


def test_a_transaction_the_log_holds_twice_stops_no_node(tmp_path):
    # The shared log can hold the same raw transaction twice: a node takes it into the log and is
    # killed before it answers, and the gateway asks another node, which appends it again.
    net = Devnet(workdir=str(tmp_path))
    node = net.add("one")
    try:
        assert "result" in rpc(node.url, "eth_sendRawTransaction", [raw(0)])
        again = rpc(node.url, "eth_sendRawTransaction", [raw(0)])
        assert "nonce" in again["error"]["message"]
        head = node.head()
        # The node went on past the repeated entry ...
        assert "result" in rpc(node.url, "eth_sendRawTransaction", [raw(1)])
        assert node.head() > head
        # ... and a restarted node replays the whole log, the repeated entry included.
        node.kill()
        node.start()
        assert node.head() > head
    finally:
        net.stop()
