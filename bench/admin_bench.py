"""Admin benchmark (not a test): how long from uploading a 30-page PDF to
answering from it, and /v1/ask latency while such a job runs, side by side
with no job running.

    .venv/bin/python bench/admin_bench.py --index index            # a full-corpus index (left untouched)
    .venv/bin/python bench/admin_bench.py --index index --runs 3 --clients 8 --seconds 30

It copies the index and the library (ingest/) into a temporary folder,
builds the PDF there from 30 pages of a corpus PDF (pypdf; nothing large is
committed), starts a real `briefing-qa serve` with an admin key, and:

1. upload to answerable, `--runs` times: POST the PDF, poll the job, then ask
   a question restricted to the new document; the time is from the POST to
   that answer. The document is removed between runs, so each run embeds
   its text anew (vectors are reused only from the live version).
2. /v1/ask at `--clients` concurrent clients (wrk with bench/ask.lua when
   installed, else Python threads), `--seconds` with no job running, then
   the same while an upload job runs (measured from the job's start to its
   end, at most `--seconds` × 4).

Prints one JSON document with every figure, and a short table."""

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
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-admin-key"
SOURCE_PDF = "Keeping_children_safe_in_education_2025.pdf"
QUESTIONS = ["What is the impact of poverty on neglect?", "Can I share information without consent?",
             "What is contextual safeguarding?", "What are the responsibilities of the designated safeguarding lead?"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_pdf(out: Path, pages: int = 30, first: int = 10) -> Path:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    w.append(PdfReader(str(ROOT / "ingest" / SOURCE_PDF)), pages=(first, first + pages))
    w.write(out)
    return out


class Server:
    def __init__(self, index: Path, corpus: Path, env_extra: dict) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_QA_")}
        env.update({"BRIEFING_QA_API_KEYS": f"{KEY}:admin", **env_extra})
        self.log = open(index.parent / "server.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "briefing_qa.cli", "serve", "--index", str(index), "--corpus",
                                      str(corpus), "--port", self.url.rsplit(":", 1)[1]], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start; see " + str(index.parent / "server.log"))
            time.sleep(0.2)

    def call(self, method: str, path: str, **kw) -> httpx.Response:
        return httpx.request(method, self.url + path, headers={"X-API-Key": KEY}, timeout=120, **kw)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def wait_job(server: Server, job_id: str, stages: dict | None = None, t0: float = 0.0) -> dict:
    while True:
        job = server.call("GET", f"/v1/admin/jobs/{job_id}").json()
        if stages is not None and job["stage"] not in stages:
            stages[job["stage"]] = round(time.perf_counter() - t0, 2)
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)


def upload(server: Server, pdf: Path, title: str) -> str:
    r = server.call("POST", "/v1/admin/documents", files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")},
                    data={"title": title, "publisher": "Benchmark"})
    r.raise_for_status()
    return r.json()["job_id"]


def upload_to_answerable(server: Server, pdf: Path, run: int) -> dict:
    doc_id = re.sub(r"[^a-z0-9]+", "-", pdf.stem.lower()).strip("-")
    t0 = time.perf_counter()
    stages: dict = {}
    job = wait_job(server, upload(server, pdf, f"Benchmark upload, run {run}"), stages, t0)
    if job["state"] != "done":
        raise RuntimeError(f"job failed: {job['error']}")
    r = server.call("POST", "/v1/ask", json={"question": "What should staff do if they have a concern about a child?",
                                              "document_ids": [doc_id]})
    passages = r.json()["passages"]
    seconds = time.perf_counter() - t0
    assert passages and passages[0]["citation"]["document_id"] == doc_id, r.text
    removal = wait_job(server, server.call("DELETE", f"/v1/admin/documents/{doc_id}").json()["job_id"])
    assert removal["state"] == "done", removal
    return {"seconds": round(seconds, 2), "stages_at": stages, "result": job["result"]}


def wrk_run(url: str, clients: int, seconds: float) -> dict:
    out = subprocess.run(["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "10s", "-s",
                          str(ROOT / "bench" / "ask.lua"), "--latency", url], env={**os.environ, "BQA_API_KEY": KEY},
                         capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


def python_run(url: str, clients: int, seconds: float) -> dict:
    lat: list[float] = []  # (used when wrk is not installed)
    bad = [0]
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        with httpx.Client(timeout=10, headers={"X-API-Key": KEY}) as c:
            i = n
            while time.monotonic() < stop:
                i += 1
                t = time.perf_counter()
                r = c.post(url + "/v1/ask", json={"question": QUESTIONS[i % len(QUESTIONS)], "top_k": 5})
                lat.append((time.perf_counter() - t) * 1000)
                bad[0] += r.status_code != 200

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q = statistics.quantiles(lat, n=100)
    return {"requests": len(lat), "rps": round(len(lat) / seconds, 1), "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1),
            "non2xx": bad[0]}


def latency(url: str, clients: int, seconds: float) -> dict:
    return wrk_run(url, clients, seconds) if shutil.which("wrk") else python_run(url, clients, seconds)


def summarise(slices: list[dict], seconds: float) -> dict:
    return {"requests": int(sum(s["requests"] for s in slices)), "seconds": round(seconds, 1),
            "rps": round(sum(s["requests"] for s in slices) / seconds, 1),
            "p50_ms": round(statistics.median(s["p50_ms"] for s in slices), 1),
            "p95_ms": round(statistics.median(s["p95_ms"] for s in slices), 1),
            "p95_worst_slice_ms": max(s["p95_ms"] for s in slices),
            "errors": int(sum(s.get("non2xx", 0) + s.get("socket_errors", 0) for s in slices)), "slices": slices}


def no_job(server: Server, clients: int, seconds: float) -> dict:
    t0 = time.perf_counter()
    slices = [latency(server.url, clients, 5.0) for _ in range(max(1, int(seconds // 5)))]
    return summarise(slices, time.perf_counter() - t0)


def during_job(server: Server, pdf: Path, clients: int, limit: float) -> dict:
    """Latency in 5 s slices while an upload job runs (from its start to its end)."""
    job_id = upload(server, pdf, "Benchmark upload, under load")
    while server.call("GET", f"/v1/admin/jobs/{job_id}").json()["state"] == "queued":
        time.sleep(0.05)
    t0 = time.perf_counter()
    done: dict = {}
    watcher = threading.Thread(target=lambda: done.update(wait_job(server, job_id)))
    watcher.start()
    slices = []
    while watcher.is_alive() and time.perf_counter() - t0 < limit:
        slices.append(latency(server.url, clients, 5.0))
    watcher.join()
    out = {**summarise(slices, time.perf_counter() - t0), "job_state": done.get("state")}
    doc_id = re.sub(r"[^a-z0-9]+", "-", pdf.stem.lower()).strip("-")
    wait_job(server, server.call("DELETE", f"/v1/admin/documents/{doc_id}").json()["job_id"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=ROOT / "index", help="a full-corpus index (copied, not changed)")
    ap.add_argument("--corpus", type=Path, default=ROOT / "ingest")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--job-encoder", default=os.environ.get("BRIEFING_QA_JOB_ENCODER", "onnx"))
    ap.add_argument("--skip-latency", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bqa-admin-bench-") as tmp:
        tmp = Path(tmp)
        shutil.copytree(args.index, tmp / "index", ignore=shutil.ignore_patterns("admin", ".library.lock"))
        shutil.copytree(args.corpus, tmp / "corpus")
        pdf = make_pdf(tmp / "bench-30-pages.pdf")
        server = Server(tmp / "index", tmp / "corpus", {"BRIEFING_QA_JOB_ENCODER": args.job_encoder})
        report: dict = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "job_encoder": args.job_encoder,
                        "load_before": open("/proc/loadavg").read().split()[:3], "pdf_pages": 30,
                        "pdf_bytes": pdf.stat().st_size}
        try:
            runs = [upload_to_answerable(server, pdf, n + 1) for n in range(args.runs)]
            report["upload_to_answerable"] = {"median_s": statistics.median(r["seconds"] for r in runs), "runs": runs}
            if not args.skip_latency:
                latency(server.url, 2, 3)  # warm up
                report["client"] = "wrk" if shutil.which("wrk") else "python threads"
                report["ask_no_job"] = no_job(server, args.clients, args.seconds)
                report["ask_during_job"] = during_job(server, pdf, args.clients, args.seconds * 8)
        finally:
            server.stop()
        report["load_after"] = open("/proc/loadavg").read().split()[:3]
    print(json.dumps(report, indent=1))
    u = report["upload_to_answerable"]
    print(f"\nupload to answerable, 30-page PDF: median {u['median_s']:.1f} s "
          f"(runs: {', '.join(str(r['seconds']) for r in u['runs'])})")
    if "ask_no_job" in report:
        a, b = report["ask_no_job"], report["ask_during_job"]
        print(f"/v1/ask at {args.clients} clients, median of 5 s slices ({report['client']}):")
        for label, x in (("no job     ", a), ("job running", b)):
            print(f"  {label}: p50 {x['p50_ms']} ms, p95 {x['p95_ms']} ms (worst slice {x['p95_worst_slice_ms']} ms), "
                  f"{x['rps']} req/s, {x['errors']} errors, {x['seconds']} s")


if __name__ == "__main__":
    main()
