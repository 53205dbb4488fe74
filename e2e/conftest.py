import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from devnet import Devnet, Headway, find_binary  # noqa: E402


@pytest.fixture(scope="session")
def headway_binary():
    return find_binary()


@pytest.fixture
def devnet(tmp_path):
    net = Devnet(workdir=str(tmp_path), block_time=1.0)
    net.add("node-a")
    net.add("node-b")
    net.add("public")
    net.start_clock()
    yield net
    net.stop()


@pytest.fixture
def gateway(devnet, headway_binary, tmp_path):
    hw = Headway(
        headway_binary,
        str(tmp_path),
        [
            ("node-a", devnet.nodes["node-a"].url, "primary"),
            ("node-b", devnet.nodes["node-b"].url, "primary"),
            ("public", devnet.nodes["public"].url, "fallback"),
        ],
    )
    hw.start()
    yield hw
    code = hw.stop()
    assert code == 0, f"headway exited with {code}; see {tmp_path}/headway.log"
