"""Operations benchmark (not a test): ingestion throughput, the no-change
re-ingest, time from start to ready, and resident memory per worker.

    .venv/bin/python bench/ops_bench.py                 # builds a fresh index of ingest/ in build/bench-index
    .venv/bin/python bench/ops_bench.py --index index --skip-ingest

Everything runs the real `briefing-qa` commands in subprocesses; times are
wall-clock medians; memory is read from /proc/<pid>/smaps_rollup (RSS, and
PSS, which splits shared pages among the processes that map them)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BQA = [sys.executable, "-m", "briefing_qa.cli"]
QUESTIONS = ["What is the impact of poverty on neglect?", "Can I share information without consent?",
             "What is contextual safeguarding?", "What are the responsibilities of the designated safeguarding lead?"]


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_QA_")}
    e.update(extra)
    return e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), "?")
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    return {"cpus": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem / 2**20, 1), "load": os.getloadavg()}


def ingest(index: Path, sources: Path) -> dict:
    t = time.perf_counter()
    done = subprocess.run([*BQA, "ingest", str(sources), "--index", str(index), "-q"], env=env(),
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(done.stderr)
    m = re.search(r"(\d+) chunks .* in ([\d.]+) s", done.stdout)
    out = {"wall_s": round(wall, 2)}
    if m:
        chunks, secs = int(m.group(1)), float(m.group(2))
        out.update(chunks=chunks, pipeline_s=secs, chunks_per_s=round(chunks / secs, 1))
    return out


def reingest(index: Path, sources: Path, runs: int = 3) -> dict:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        done = subprocess.run([*BQA, "ingest", str(sources), "--index", str(index), "-q"], env=env(),
                              capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        assert done.returncode == 0 and "up to date" in done.stdout, done.stdout + done.stderr
    return {"median_s": round(statistics.median(times), 2), "runs": [round(x, 2) for x in times]}


def get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except Exception:  # noqa: BLE001
        return 0


def post(url: str, body: dict) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def smaps(pid: int) -> dict:
    out = {}
    for ln in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        k, v = ln.split(":", 1)
        out[k] = int(v.split()[0])
    return out


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def serve(index: Path, workers: int, encoder: str, runs: int) -> dict:
    ready = []
    memory = None
    for n in range(runs):
        port = free_port()
        t = time.perf_counter()
        proc = subprocess.Popen([*BQA, "serve", "--port", str(port), "--workers", str(workers)],
                                env=env(BRIEFING_QA_INDEX=str(index), BRIEFING_QA_ENCODER=encoder),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while get(f"http://127.0.0.1:{port}/readyz", 0.5) != 200:
                if proc.poll() is not None or time.perf_counter() - t > 120:
                    sys.exit(f"server with {workers} worker(s) did not become ready")
                time.sleep(0.02)
            ready.append(time.perf_counter() - t)
            if n == runs - 1:  # memory after some traffic, on the last run
                for i in range(50):
                    post(f"http://127.0.0.1:{port}/v1/ask", {"question": QUESTIONS[i % len(QUESTIONS)]})
                pids = [c for c in children(proc.pid) if smaps(c).get("Rss", 0) > 50_000] if workers > 1 else [proc.pid]
                mem = [smaps(p) for p in pids]
                memory = {
                    "rss_mib_per_worker": [round(m["Rss"] / 1024) for m in mem],
                    "pss_mib_per_worker": [round(m["Pss"] / 1024) for m in mem],
                    "shared_mib_per_worker": [round((m.get("Shared_Clean", 0) + m.get("Shared_Dirty", 0)) / 1024) for m in mem],
                    "total_pss_mib": round(sum(m["Pss"] for m in mem) / 1024),
                }
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return {"workers": workers, "encoder": encoder, "start_to_ready_s": round(statistics.median(ready), 2),
            "runs": [round(x, 2) for x in ready], **(memory or {})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=ROOT / "build" / "bench-index")
    ap.add_argument("--sources", type=Path, default=ROOT / "ingest")
    ap.add_argument("--skip-ingest", action="store_true", help="use the index as it is")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--encoders", default="onnx,torch")
    args = ap.parse_args()
    result: dict = {"machine": machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if not args.skip_ingest:
        shutil.rmtree(args.index, ignore_errors=True)
        result["ingest_fresh"] = ingest(args.index, args.sources)
        print(json.dumps({"ingest_fresh": result["ingest_fresh"]}), flush=True)
    result["reingest_no_change"] = reingest(args.index, args.sources, args.runs)
    print(json.dumps({"reingest_no_change": result["reingest_no_change"]}), flush=True)
    result["serve"] = []
    for encoder in args.encoders.split(","):
        for workers in (1, 2):
            r = serve(args.index, workers, encoder, args.runs)
            result["serve"].append(r)
            print(json.dumps(r), flush=True)
    result["machine"]["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
