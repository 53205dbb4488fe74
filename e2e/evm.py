"""What the end-to-end tests send to the chain: a tiny contract in raw EVM bytecode (no
compiler needed) and the key of eth-tester's first funded account."""

from eth_account import Account

# Every call logs its calldata under topic 0xaa and returns 42.
RUNTIME = "366000600037" "60aa" "36" "6000" "a1" "602a" "6000" "52" "6020" "6000" "f3"
INIT = "0x" + "6016" "80" "600b" "6000" "39" "6000" "f3" + RUNTIME
# The first eth-tester account is the address of private key 1.
KEY_ONE = "0x" + "00" * 31 + "01"
ACCOUNT_ONE = Account.from_key(KEY_ONE).address


def signed_call(to, data, nonce, chain_id, key=KEY_ONE):
    """A signed EIP-1559 transaction calling `to` with `data` (hex string)."""
    return Account.sign_transaction(
        {
            "to": to, "data": data, "value": 0, "gas": 100_000, "nonce": nonce, "chainId": chain_id,
            "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
        },
        key,
    )
