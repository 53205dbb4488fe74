"""Headway vs nginx, side by side: eth_blockNumber over HTTP POST through each proxy to the same two
fast fake nodes, interleaved repetitions (A B A B ...), medians and ratios.

Reported per target: requests/s, p50 and p99 latency (wrk), the proxy's CPU time per request
(from /proc: user+system of the proxy's processes over the run) and, where `perf stat` can count
instructions on this machine, instructions per request."""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BODY = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}'
# A block far below the fake nodes' head (100): final, so Headway answers it from its cache.
CACHED_BODY = '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x10",false]}'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url, data=BODY.encode(), headers={"content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200 and b"result" in r.read():
                    return
        except Exception:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


def cpu_seconds(pids):
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except FileNotFoundError:
            pass
    return total


def children(pid):
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]
    except Exception:
        return []


def perf_supported():
    if not shutil.which("perf"):
        return False
    out = subprocess.run(["perf", "stat", "-e", "instructions", "true"], capture_output=True, text=True).stderr
    return "not supported" not in out and "instructions" in out


def parse_latency(text, label):
    m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url, args, script, pids, use_perf):
    perf = None
    if use_perf and pids:
        perf = subprocess.Popen(
            ["perf", "stat", "-x", ",", "-e", "instructions", "-p", ",".join(map(str, pids))],
            stderr=subprocess.PIPE, text=True)
    before = cpu_seconds(pids)
    out = subprocess.run(
        ["wrk", "--latency", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s", "-s", script, url],
        capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pids) - before
    instructions = None
    if perf:
        perf.send_signal(signal.SIGINT)
        err = perf.communicate()[1]
        m = re.search(r"^(\d+),,instructions", err, re.M)
        instructions = int(m.group(1)) if m else None
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps, "p50": parse_latency(out, "50%"), "p99": parse_latency(out, "99%"),
        "cpu_us": cpu / total * 1e6 if total else float("nan"),
        "instr": instructions / total if instructions and total else None,
        "errors": int(errors.group(1)) if errors else 0, "socket": sock.group(1) if sock else "",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="release bin path with headway and fakenode")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    work = tempfile.mkdtemp(prefix="headway-bench-")
    procs = []
    try:
        backends = [free_port(), free_port()]
        for port in backends:
            procs.append(subprocess.Popen([os.path.join(args.bin, "fakenode"), str(port)], stdout=subprocess.DEVNULL))
        for port in backends:
            wait_http(f"http://127.0.0.1:{port}")

        nginx_port = free_port()
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  upstream backends {{
    server 127.0.0.1:{backends[0]};
    server 127.0.0.1:{backends[1]};
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{nginx_port};
    location / {{
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
        nginx = subprocess.Popen([nginx_bin, "-p", work, "-c", os.path.join(work, "nginx.conf")], stderr=subprocess.DEVNULL)
        procs.append(nginx)

        headway_port, admin_port = free_port(), free_port()
        with open(os.path.join(work, "headway.yaml"), "w") as f:
            f.write(f"""
server: {{ listen: 127.0.0.1:{headway_port} }}
admin: {{ listen: 127.0.0.1:{admin_port} }}
store: memory
networks:
  bench:
    chain_id: 1
    upstreams:
      - {{ name: a, url: "http://127.0.0.1:{backends[0]}" }}
      - {{ name: b, url: "http://127.0.0.1:{backends[1]}" }}
""")
        headway = subprocess.Popen(
            [os.path.join(args.bin, "headway"), "serve", "--config", os.path.join(work, "headway.yaml"), "--log-level", "warning"])
        procs.append(headway)

        targets = {
            "direct (one node)": (f"http://127.0.0.1:{backends[0]}", lambda: [procs[0].pid]),
            "nginx": (f"http://127.0.0.1:{nginx_port}", lambda: [nginx.pid] + children(nginx.pid)),
            "headway": (f"http://127.0.0.1:{headway_port}", lambda: [headway.pid]),
            "headway, cached deep block": (f"http://127.0.0.1:{headway_port}", lambda: [headway.pid]),
        }
        for url, _ in targets.values():
            wait_http(url)
        scripts = {}
        for name, body in (("post.lua", BODY), ("cached.lua", CACHED_BODY)):
            scripts[name] = os.path.join(work, name)
            with open(scripts[name], "w") as f:
                f.write(f"wrk.method = 'POST'\nwrk.body = '{body}'\nwrk.headers['Content-Type'] = 'application/json'\n")
        script_of = {name: scripts["cached.lua" if "cached" in name else "post.lua"] for name in targets}

        use_perf = perf_supported()
        results = {name: [] for name in targets}
        # Warm up every target, then interleave: direct, nginx, headway, nginx, headway, ...
        for name, (url, pids) in targets.items():
            subprocess.run(["wrk", "-t", "1", "-c", "8", "-d", "2s", "-s", script_of[name], url], capture_output=True)
        results["direct (one node)"].append(
            run_wrk(targets["direct (one node)"][0], args, script_of["direct (one node)"], targets["direct (one node)"][1](), use_perf))
        for rep in range(args.reps):
            for name in ("nginx", "headway", "headway, cached deep block"):
                url, pids = targets[name]
                results[name].append(run_wrk(url, args, script_of[name], pids(), use_perf))
                r = results[name][-1]
                print(f"  rep {rep + 1} {name:8} {r['rps']:>10.0f} req/s  p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  "
                      f"cpu {r['cpu_us']:.1f} us/req  errors {r['errors']} {r['socket']}", file=sys.stderr)

        def med(name, key):
            values = [r[key] for r in results[name] if r[key] is not None]
            return statistics.median(values) if values else None

        print(f"\neth_blockNumber, {args.connections} connections, {args.threads} wrk threads, {args.duration} s x {args.reps} "
              f"interleaved runs (medians), nginx with 1 worker and a keepalive pool; machine: {os.cpu_count()} cores\n")
        print("| target | requests/s | p50 ms | p99 ms | proxy CPU µs/request | instructions/request | non-2xx |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name in targets:
            instr = med(name, "instr")
            print(f"| {name} | {med(name, 'rps'):.0f} | {med(name, 'p50'):.2f} | {med(name, 'p99'):.2f} | {med(name, 'cpu_us'):.1f} | "
                  f"{f'{instr:.0f}' if instr else 'n/a'} | {sum(r['errors'] for r in results[name])} |")
        ratio = med("headway", "rps") / med("nginx", "rps")
        cpu_ratio = med("headway", "cpu_us") / med("nginx", "cpu_us")
        print(f"\nHeadway/nginx: requests/s {ratio:.2f}x, p99 {med('headway', 'p99') / med('nginx', 'p99'):.2f}x, "
              f"CPU per request {cpu_ratio:.2f}x")
        print(f"Headway cached deep block / Headway passthrough: requests/s "
              f"{med('headway, cached deep block', 'rps') / med('headway', 'rps'):.2f}x "
              f"(eth_getBlockByNumber of a block 84 below the head, {os.path.basename(scripts['cached.lua'])})")
        if not use_perf:
            print("instructions/request: n/a (perf stat cannot count instructions on this machine)")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
