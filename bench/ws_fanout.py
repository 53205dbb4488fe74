"""WebSocket fan-out: N clients subscribed to newHeads through Headway; the delay from Headway
receiving a new head to each client receiving it (p50/p99), and Headway's resident memory with
all clients connected. Release build; one fake node (in the wsbench process) behind Headway."""

import argparse
import os
import resource
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    """User and system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="the release build's bin directory")
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--poll", default="20ms", help="networks.NAME.subscriptions.poll_interval")
    parser.add_argument("--floor", metavar="PROGRAM", help="bench/ws_floor.c compiled: also measure the kernel's floor")
    parser.add_argument("--perf", metavar="DIR", help="record CPU profiles of the rounds phase (perf record -g) "
                        "into DIR/headway.data and DIR/wsbench.data")
    args = parser.parse_args()

    # Each process holds one descriptor per client: raise the soft limit to the hard one.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < args.clients + 1024:
        sys.exit(f"the open-file limit ({hard}) is too low for {args.clients} clients")
    work = tempfile.mkdtemp(prefix="headway-wsbench-")
    node_port, rpc_port, admin_port = free_port(), free_port(), free_port()

    bench = subprocess.Popen(
        [os.path.join(args.bin, "wsbench"), str(node_port), f"ws://127.0.0.1:{rpc_port}", str(args.clients), str(args.rounds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert "node listening" in bench.stdout.readline()

    config = os.path.join(work, "headway.yaml")
    with open(config, "w") as f:
        f.write(f"""server:
  listen: 127.0.0.1:{rpc_port}
  ws: {{ max_connections: {args.clients + 100} }}
admin:
  listen: 127.0.0.1:{admin_port}
store: memory
networks:
  bench:
    chain_id: 1
    health: {{ interval: 1s }}
    subscriptions: {{ poll_interval: {args.poll} }}
    upstreams:
      - {{ name: node, url: "http://127.0.0.1:{node_port}" }}
""")
    headway = subprocess.Popen([os.path.join(args.bin, "headway"), "serve", "--config", config, "--log-level", "warning"],
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "headway.log"), "w"))
    try:
        ready = f"http://127.0.0.1:{admin_port}/readyz"
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(ready, timeout=1).status == 200:
                    break
            except Exception:
                time.sleep(0.1)
        rss_idle = rss_mb(headway.pid)
        bench.stdin.write("start\n")
        bench.stdin.flush()
        lines = []
        size = 0
        cpu_start = None
        profilers = []
        for line in bench.stdout:
            line = line.rstrip("\n")
            if line == "DONE":
                break
            if "clients subscribed" in line:
                cpu_start = (cpu_seconds(headway.pid), cpu_seconds(bench.pid))
                if args.perf:
                    os.makedirs(args.perf, exist_ok=True)
                    profilers = [subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-g", "-p", str(pid),
                                                   "-o", os.path.join(args.perf, f"{name}.data")],
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                                 for name, pid in (("headway", headway.pid), ("wsbench", bench.pid))]
            if line.startswith("notification size:"):
                size = int(line.split()[2])
            lines.append(line)
        cpu_end = (cpu_seconds(headway.pid), cpu_seconds(bench.pid))
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait()
        rss = rss_mb(headway.pid)
        print(f"WebSocket fan-out: {args.clients} clients subscribed to newHeads through Headway "
              f"(release build, poll_interval {args.poll}, machine: {os.cpu_count()} cores)")
        print("\n".join(lines))
        if cpu_start:
            per_block = [[(end[i] - start[i]) / args.rounds * 1000 for i in (0, 1)]
                         for start, end in zip(cpu_start, cpu_end)]
            print("CPU per block fanned out (rounds phase, incl. the pauses between blocks): "
                  + ", ".join(f"{name} {user + system:.0f} ms ({user:.0f} user, {system:.0f} system)"
                              for name, (user, system) in zip(("Headway", "the clients (wsbench)"), per_block)))
        print(f"Headway resident memory: {rss:.0f} MB with the clients connected ({rss_idle:.0f} MB before they connected)")
    finally:
        bench.stdin.close()
        bench.terminate()
        headway.terminate()
        try:
            headway.wait(timeout=20)
        except subprocess.TimeoutExpired:
            headway.kill()
        bench.wait()
    if args.floor:
        floor(args.floor, args.clients, size, min(args.rounds, 10))


def floor(program, clients, size, rounds):
    """The kernel's own cost for the same fan-out on this machine (bench/ws_floor.c), run after
    Headway (so the two do not share the cores): medians over the rounds."""
    out = subprocess.run([program, str(clients), str(size or 600), str(rounds)], capture_output=True, text=True, check=True).stdout
    rows = [[float(x) for x in line.split()] for line in out.splitlines() if line.strip()]
    last, writers, reader = (statistics.median(column) for column in zip(*rows))
    print(f"Kernel floor (bench/ws_floor.c: {clients} loopback sockets, {size} bytes each, 2 writer threads, one epoll "
          f"reader, no WebSocket or JSON; median of {len(rows)}): the last socket has its message after {last:.1f} ms; "
          f"CPU per round {writers:.0f} ms writers, {reader:.0f} ms reader")


if __name__ == "__main__":
    sys.exit(main())
