"""Through Headway, web3.py gets the same answers as from a node directly."""

from eth_account import Account
from web3 import HTTPProvider, Web3

from evm import INIT, KEY_ONE


def test_web3_gets_the_same_answers_through_headway(gateway, devnet):
    via = Web3(HTTPProvider(gateway.url))
    direct = Web3(HTTPProvider(devnet.nodes["node-a"].url))

    assert via.eth.chain_id == direct.eth.chain_id
    assert abs(via.eth.block_number - direct.eth.block_number) <= 1

    accounts = direct.eth.accounts
    sender, receiver = accounts[0], accounts[1]

    # eth_sendTransaction + eth_getTransactionReceipt: deploy the contract through Headway.
    deploy_hash = via.eth.send_transaction({"from": sender, "data": INIT, "gas": 200_000})
    deployed = via.eth.wait_for_transaction_receipt(deploy_hash, timeout=20)
    assert deployed.status == 1
    contract = deployed.contractAddress
    devnet_wait_for_receipt(direct, deploy_hash)
    assert direct.eth.get_transaction_receipt(deploy_hash) == via.eth.get_transaction_receipt(deploy_hash)

    # eth_call and eth_estimateGas.
    call = {"from": sender, "to": contract, "data": "0x1234"}
    assert via.eth.call(call, deployed.blockNumber) == direct.eth.call(call, deployed.blockNumber)
    assert int.from_bytes(via.eth.call(call), "big") == 42
    assert via.eth.estimate_gas(call) == direct.eth.estimate_gas(call)

    # A transaction that logs, then eth_getLogs.
    log_hash = via.eth.send_transaction({"from": sender, "to": contract, "data": "0xbeef", "gas": 100_000})
    logged = via.eth.wait_for_transaction_receipt(log_hash, timeout=20)
    devnet_wait_for_receipt(direct, log_hash)
    flt = {"fromBlock": deployed.blockNumber, "toBlock": logged.blockNumber, "address": contract}
    logs = via.eth.get_logs(flt)
    assert logs == direct.eth.get_logs(flt)
    assert len(logs) == 1 and logs[0]["data"] == bytes.fromhex("beef")

    # eth_sendRawTransaction.
    nonce = via.eth.get_transaction_count(sender)
    signed = Account.sign_transaction(
        {
            "to": receiver, "value": 12345, "gas": 21000, "nonce": nonce, "chainId": via.eth.chain_id,
            "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
        },
        KEY_ONE,
    )
    raw_hash = via.eth.send_raw_transaction(signed.raw_transaction)
    raw_receipt = via.eth.wait_for_transaction_receipt(raw_hash, timeout=20)
    assert raw_receipt.status == 1
    devnet_wait_for_receipt(direct, raw_hash)
    # A client sending it again (its first answer lost on the way) gets the hash, as the first
    # time: the node's nonce error is for this very transaction, which the node already has.
    assert "nonce" in direct.provider.make_request("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])["error"]["message"]
    assert via.eth.send_raw_transaction(signed.raw_transaction) == raw_hash

    # eth_getBalance and eth_getBlockByNumber at a fixed block.
    at = raw_receipt.blockNumber
    assert via.eth.get_balance(receiver, at) == direct.eth.get_balance(receiver, at)
    assert via.eth.get_balance(receiver, at) - via.eth.get_balance(receiver, at - 1) == 12345
    assert via.eth.get_block(at) == direct.eth.get_block(at)
    assert via.eth.get_block(at, full_transactions=True) == direct.eth.get_block(at, full_transactions=True)
    assert via.eth.get_block(0) == direct.eth.get_block(0)


def devnet_wait_for_receipt(w3, tx_hash):
    w3.eth.wait_for_transaction_receipt(tx_hash, timeout=20, poll_latency=0.1)
