"""Mines a block on the shared operation log every N seconds (the devnodes' block time)."""

import argparse
import threading
import time

from devnode import OperationLog


class ChainClock:
    def __init__(self, log_path, block_time):
        self.log = OperationLog(log_path)
        self.block_time = block_time
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def run(self):
        while not self.stop_event.wait(self.block_time):
            self.log.append([{"op": "mine"}])

    def stop(self):
        self.stop_event.set()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log", required=True)
    parser.add_argument("--block-time", type=float, default=2.0)
    args = parser.parse_args()
    clock = ChainClock(args.log, args.block_time)
    clock.run()
