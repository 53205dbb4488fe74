"""Headway vs nginx and HAProxy, side by side, in one run.

The same two fast fake nodes (`fakenode`) stand behind every proxy. For every body (small:
`eth_blockNumber`; large: `eth_getBlockByNumber("latest", true)`, a ~22 KB block with full
transactions) and every connection count, each target is measured in interleaved repetitions
(A B C ... A B C ...) and the table gives medians: requests/s, p50/p99 latency (wrk), the proxy's
CPU time per request (user+system of its processes, from /proc, and the two apart) and, where
`perf stat` can count instructions on this machine, instructions per request. Ratios are to
nginx with one worker.

Targets: the node directly (the limit), nginx with 1 and 2 workers (upstream keepalive pool),
HAProxy with 1 and 2 threads (`http-reuse always`), Headway, and Headway answering a final block
from its cache (small body only). Then the resident memory of a fresh Headway after a long run at the
largest connection count (small body, then large), and, with --upstreams N, Headway in front of N upstreams: its health round
time and its cost per request next to the 2-upstream figure."""

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

BODIES = {
    "small": '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}',
    "large": '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["latest",true]}',
}
# A block far below the fake nodes' head (100): final, so Headway answers it from its cache.
CACHED_BODY = '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x10",false]}'
BASELINE = "nginx, 1 worker"
CACHED = "headway, cached deep block"
# Headway with one event loop (NIO_SINGLETON_GROUP_LOOP_COUNT=1): the counterpart of nginx's one worker.
ONE_LOOP = "headway, 1 event loop"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, body=BODIES["small"], timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url, data=body.encode(), headers={"content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200 and b"result" in r.read():
                    return
        except Exception:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


def cpu_times(pids):
    """User and kernel CPU seconds of `pids` (utime and stime of /proc/PID/stat)."""
    user = kernel = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11]) / tick
            kernel += int(fields[12]) / tick
        except FileNotFoundError:
            pass
    return user, kernel


def cpu_seconds(pids):
    return sum(cpu_times(pids))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


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


def run_wrk(url, script, connections, threads, duration, pids, use_perf):
    perf = None
    if use_perf and pids:
        perf = subprocess.Popen(
            ["perf", "stat", "-x", ",", "-e", "instructions", "-p", ",".join(map(str, pids))],
            stderr=subprocess.PIPE, text=True)
    before = cpu_times(pids)
    out = subprocess.run(
        ["wrk", "--latency", "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{duration}s", "-s", script, url],
        capture_output=True, text=True, check=True).stdout
    after = cpu_times(pids)
    user, kernel = after[0] - before[0], after[1] - before[1]
    instructions = None
    if perf:
        perf.send_signal(signal.SIGINT)
        err = perf.communicate()[1]
        m = re.search(r"^(\d+),,instructions", err, re.M)
        instructions = int(m.group(1)) if m else None
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": parse_latency(out, "50%"), "p99": parse_latency(out, "99%"),
        "cpu_us": (user + kernel) / total * 1e6 if total else float("nan"),
        "user_us": user / total * 1e6 if total else float("nan"),
        "kernel_us": kernel / total * 1e6 if total else float("nan"),
        "instr": instructions / total if instructions and total else None,
        "errors": (int(errors.group(1)) if errors else 0) + (1 if sock else 0),
    }


def median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="headway-bench-")
        self.procs = []
        self.use_perf = perf_supported()

    def start(self, argv, **kwargs):
        proc = subprocess.Popen(argv, **kwargs)
        self.procs.append(proc)
        return proc

    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def script(self, body):
        return self.write(f"body-{abs(hash(body))}.lua",
                          f"wrk.method = 'POST'\nwrk.body = '{body}'\nwrk.headers['Content-Type'] = 'application/json'\n")

    def nginx(self, workers, backends):
        port = free_port()
        prefix = os.path.join(self.work, f"nginx{workers}")
        os.makedirs(prefix, exist_ok=True)
        conf = self.write(f"nginx{workers}.conf", f"""
worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix};
  proxy_temp_path {prefix};
  upstream backends {{
    server 127.0.0.1:{backends[0]};
    server 127.0.0.1:{backends[1]};
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
""")
        proc = self.start([shutil.which("nginx") or "/usr/sbin/nginx", "-p", prefix, "-c", conf], stderr=subprocess.DEVNULL)
        return f"http://127.0.0.1:{port}", lambda: [proc.pid] + children(proc.pid)

    def haproxy(self, threads, backends):
        port = free_port()
        conf = self.write(f"haproxy{threads}.cfg", f"""
global
  nbthread {threads}
  maxconn 8000
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend rpc
  bind 127.0.0.1:{port}
  default_backend nodes
backend nodes
  balance roundrobin
  server a 127.0.0.1:{backends[0]}
  server b 127.0.0.1:{backends[1]}
""")
        proc = self.start([shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", conf], stderr=subprocess.DEVNULL)
        return f"http://127.0.0.1:{port}", lambda: [proc.pid]

    def headway(self, name, upstreams, log_level="warning", loops=None):
        port, admin = free_port(), free_port()
        lines = "\n".join(f'      - {{ name: u{i}, url: "{url}" }}' for i, url in enumerate(upstreams))
        conf = self.write(f"{name}.yaml", f"""
server: {{ listen: 127.0.0.1:{port} }}
admin: {{ listen: 127.0.0.1:{admin} }}
store: memory
networks:
  bench:
    chain_id: 1
    upstreams:
{lines}
""")
        log = open(os.path.join(self.work, f"{name}.log"), "w")
        env = dict(os.environ, **({"NIO_SINGLETON_GROUP_LOOP_COUNT": str(loops)} if loops else {}))
        proc = self.start([os.path.join(self.args.bin, "headway"), "serve", "--config", conf, "--log-level", log_level],
                          stdout=log, stderr=log, env=env)
        return f"http://127.0.0.1:{port}", proc, os.path.join(self.work, f"{name}.log")

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(self.work, ignore_errors=True)


def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="release bin path with headway and fakenode")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions per cell")
    parser.add_argument("--connections", default="1,64,256", help="comma-separated connection counts")
    parser.add_argument("--bodies", default="small,large", help="comma-separated: small, large")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rss-seconds", type=int, default=60, help="long run for Headway's resident memory (0: skip)")
    parser.add_argument("--upstreams", type=int, default=0, help="also measure Headway in front of this many upstreams")
    parser.add_argument("--out", help="write the results (markdown) to this file too")
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    bodies = args.bodies.split(",")
    bench = Bench(args)
    lines = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    try:
        backends = [free_port(), free_port()]
        nodes = [bench.start([os.path.join(args.bin, "fakenode"), str(port)], stdout=subprocess.DEVNULL) for port in backends]
        for port in backends:
            wait_http(f"http://127.0.0.1:{port}")
        headway_url, headway, _ = bench.headway("headway", [f"http://127.0.0.1:{p}" for p in backends])
        one_url, one_loop, _ = bench.headway("headway-1-loop", [f"http://127.0.0.1:{p}" for p in backends], loops=1)
        targets = {
            "direct (one node)": (f"http://127.0.0.1:{backends[0]}", lambda: [nodes[0].pid]),
            BASELINE: bench.nginx(1, backends),
            "nginx, 2 workers": bench.nginx(2, backends),
            "haproxy, 1 thread": bench.haproxy(1, backends),
            "haproxy, 2 threads": bench.haproxy(2, backends),
            "headway": (headway_url, lambda: [headway.pid]),
            ONE_LOOP: (one_url, lambda: [one_loop.pid]),
            CACHED: (headway_url, lambda: [headway.pid]),
        }
        for url, _ in targets.values():
            wait_http(url)
        scripts = {body: bench.script(BODIES[body]) for body in BODIES}
        scripts[CACHED] = bench.script(CACHED_BODY)

        say(f"# Headway benchmark results\n\nMachine: {os.cpu_count()} cores, loopback; two `fakenode` backends; wrk with "
            f"{args.threads} threads (at most one per connection); {args.duration} s per measurement, {args.reps} interleaved "
            f"repetitions, medians. Instructions per request: {'perf stat' if bench.use_perf else 'n/a (perf stat cannot count instructions on this machine)'}.\n")
        results = {}
        for body in bodies:
            for conns in connections:
                names = [n for n in targets if n != CACHED or body == "small"]
                runs = {n: [] for n in names}
                for name in names:  # warm-up
                    script = scripts[CACHED if name == CACHED else body]
                    subprocess.run(["wrk", "-t", "1", "-c", str(min(conns, 8)), "-d", "1s", "-s", script, targets[name][0]], capture_output=True)
                for rep in range(args.reps):
                    for name in names:
                        url, pids = targets[name]
                        script = scripts[CACHED if name == CACHED else body]
                        r = run_wrk(url, script, conns, args.threads, args.duration, pids(), bench.use_perf)
                        runs[name].append(r)
                        print(f"  {body} c={conns} rep {rep + 1} {name:28} {r['rps']:>9.0f} req/s  p50 {r['p50']:.2f} ms  "
                              f"p99 {r['p99']:.2f} ms  cpu {r['cpu_us']:.1f} µs/req  errors {r['errors']}", file=sys.stderr, flush=True)
                results[(body, conns)] = runs
                base = {k: median(runs[BASELINE], k) for k in ("rps", "p99", "cpu_us", "instr")}
                say(f"## {body} body ({'eth_blockNumber' if body == 'small' else 'eth_getBlockByNumber latest, full transactions, ~22 KB'}), {conns} connection{'s' if conns > 1 else ''}\n")
                say("| target | requests/s | × nginx | p50 ms | p99 ms | CPU µs/request | × nginx | user / kernel µs | instructions/request | × nginx | errors |")
                say("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
                for name in names:
                    rps, cpu, instr = median(runs[name], "rps"), median(runs[name], "cpu_us"), median(runs[name], "instr")
                    say(f"| {name} | {rps:.0f} | {rps / base['rps']:.2f} | {median(runs[name], 'p50'):.2f} | {median(runs[name], 'p99'):.2f} | "
                        f"{cpu:.1f} | {cpu / base['cpu_us']:.2f} | {median(runs[name], 'user_us'):.1f} / {median(runs[name], 'kernel_us'):.1f} | "
                        f"{fmt(instr, '.0f')} | "
                        f"{fmt(instr / base['instr'] if instr and base['instr'] else None, '.2f')} | {sum(r['errors'] for r in runs[name])} |")
                say()

        say("## Targets of issue 5\n")
        say("| target | figure | met |")
        say("| --- | --- | --- |")

        def check(label, figure, ok):
            say(f"| {label} | {figure} | {'yes' if ok else 'no'} |")

        for variant in ("headway", ONE_LOOP):
            who = "" if variant == "headway" else f" ({variant})"
            if ("small", 64) in results:
                runs = results[("small", 64)]
                r = median(runs[variant], "rps") / median(runs[BASELINE], "rps")
                check(f"small body, 64 connections: requests/s ≥ 1.0× nginx (1 worker){who}", f"{r:.2f}×", r >= 1.0)
                hp, np = median(runs[variant], "p99"), median(runs[BASELINE], "p99")
                check(f"small body, 64 connections: p99 ≤ nginx's{who}", f"{hp:.2f} ms vs {np:.2f} ms", hp <= np)
                hi, ni = median(runs[variant], "instr"), median(runs[BASELINE], "instr")
                if hi and ni:
                    check(f"instructions per request ≤ 1.5× nginx's{who}", f"{hi / ni:.2f}×", hi / ni <= 1.5)
                else:
                    c = median(runs[variant], "cpu_us") / median(runs[BASELINE], "cpu_us")
                    check(f"instructions per request ≤ 1.5× nginx's (n/a here; CPU time per request instead){who}", f"{c:.2f}×", c <= 1.5)
            if ("large", 64) in results:
                runs = results[("large", 64)]
                r = median(runs[variant], "rps") / median(runs[BASELINE], "rps")
                check(f"large body, 64 connections: requests/s ≥ 1.0× nginx{who}", f"{r:.2f}×", r >= 1.0)
        if ("small", 64) in results:
            runs = results[("small", 64)]
            cached = median(runs[CACHED], "rps") / median(runs["headway"], "rps")
            check("cached deep block: requests/s ≥ 2× Headway passthrough", f"{cached:.2f}×", cached >= 2.0)

        if args.rss_seconds > 0:
            # A fresh Headway: the small body for the target, then the large body on top.
            conns = max(connections)
            fresh_url, fresh, _ = bench.headway("headway-rss", [f"http://127.0.0.1:{p}" for p in backends])
            wait_http(fresh_url)
            for body in ("small", "large"):
                run_wrk(fresh_url, scripts[body], conns, args.threads, args.rss_seconds, [fresh.pid], False)
                rss = rss_mb(fresh.pid)
                after = "" if body == "small" else f" (then {args.rss_seconds} s of the large body)"
                check(f"resident memory ≤ 64 MB after {args.rss_seconds} s at {conns} connections{after}", f"{rss:.1f} MB", rss <= 64)

        if args.upstreams > 0:
            many_url, many, log = bench.headway(
                "headway-many", [f"http://127.0.0.1:{backends[i % 2]}/u{i}" for i in range(args.upstreams)], log_level="debug")
            wait_http(many_url, timeout=60)
            time.sleep(12)  # two health rounds at least
            # Warm up long enough that every upstream's connection pools on every event loop have
            # seen their share of concurrent requests (they grow to it once, then are reused).
            for url in (headway_url, many_url):
                subprocess.run(["wrk", "-t", "2", "-c", "64", "-d", "10s", "-s", scripts["small"], url], capture_output=True)
            # The health rounds of many upstreams cost CPU whether or not clients send anything:
            # measured on their own, then taken out of the per-request figure (and reported).
            before = cpu_seconds([many.pid])
            time.sleep(10)
            background = (cpu_seconds([many.pid]) - before) / 10
            pair = {"2": [], "many": []}
            for _ in range(args.reps):
                pair["2"].append(run_wrk(headway_url, scripts["small"], 64, args.threads, args.duration, [headway.pid], bench.use_perf))
                pair["many"].append(run_wrk(many_url, scripts["small"], 64, args.threads, args.duration, [many.pid], bench.use_perf))
            with open(log) as f:
                text = f.read()
            rounds = [int(m) for line in text.splitlines() if "health round" in line for m in re.findall(r"duration_ms=(\d+)", line)]
            slow = text.count("health round took longer")
            worst = max(rounds) if rounds else None
            check(f"{args.upstreams} upstreams: health round within the interval (5 s)",
                  f"{len(rounds)} rounds, longest {fmt(worst, 'd')} ms, {slow} over the interval", bool(rounds) and slow == 0)
            for r in pair["many"]:
                r["cpu_us_requests"] = r["cpu_us"] - background / r["rps"] * 1e6
            say(f"| {args.upstreams} upstreams: health rounds' CPU with no client traffic | {background * 1000:.0f} ms per second | — |")
            for key, label in (("instr", "instructions"), ("cpu_us", "CPU time (rounds included)"),
                               ("cpu_us_requests", "CPU time (rounds' background taken out)")):
                a, b = median(pair["2"], "cpu_us" if key == "cpu_us_requests" else key), median(pair["many"], key)
                if a and b:
                    check(f"{args.upstreams} upstreams: {label} per request within 10 % of 2 upstreams",
                          f"{b:.1f} vs {a:.1f} ({(b / a - 1) * 100:+.1f} %); requests/s {median(pair['many'], 'rps'):.0f} vs "
                          f"{median(pair['2'], 'rps'):.0f}", b <= a * 1.1)
        say()
        if args.out:
            with open(args.out, "w") as f:
                f.write("\n".join(lines) + "\n")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
