"""``make bench``: the product at a big company's scale, against its targets.

Builds (or reuses) generated data sets at two sizes, serves the app with gunicorn (2 workers)
on loopback, loads each page with wrk from a second process, measures bulk rejection and mail
delivery in-process, and prints a table and, as its last line, one JSON object.

Settings (environment): BENCH_SIZES ("10000,1000000"), BENCH_SEED (1), BENCH_SECONDS (10,
per wrk run), BENCH_WORKER_CLASS ("gthread"), BENCH_THREADS (4).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from .measure import bulk_reject_1000_s, outbox_rates
from .pages import PAGES, page_urls

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
DATA = HERE / "data"
BIN = Path(sys.executable).parent
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "10000,1000000").split(",")]
SEED = int(os.environ.get("BENCH_SEED", "1"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "gthread")
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
PASSWORD = "recruiter-demo-password"  # noqa: S105 (the generated demo users' password)

# Targets (the issue): pages at least 0.1 of hello_rps, p95 under 25 ms, growth at most 1.5.
PAGE_RPS_SHARE, PAGE_P95_MS, PAGE_GROWTH = 0.1, 25.0, 1.5
BULK_REJECT_S, OUTBOX_SHARE, RSS_MB = 2.0, 0.8, 150.0


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- data ---------------------------------------------------------------------------------


def data_key() -> str:
    """Changes when the schema (migrations) or the generator changes: then data is rebuilt."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    digest.update((ROOT / "recruiter" / "demo" / "generate.py").read_bytes())
    return digest.hexdigest()[:10]


def data_set(n: int) -> Path:
    """The generated SQLite file for ``n`` applications, built when missing."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"n{n}-seed{SEED}-{data_key()}.sqlite3"
    if path.exists():
        log(f"using cached data {path.name}")
        return path
    for stale in DATA.glob(f"n{n}-seed{SEED}-*.sqlite3*"):
        stale.unlink()
    building = path.with_suffix(".building")
    for leftover in DATA.glob(building.name + "*"):
        leftover.unlink()
    env = {**os.environ, **app_env(building)}
    flask = [str(BIN / "flask"), "--app", "recruiter"]
    log(f"generating {n:,} applications (seed {SEED}) ...")
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)  # noqa: S603
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603
        [*flask, "demo", "generate", "--applications", str(n), "--seed", str(SEED)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    log(result.stdout.strip().splitlines()[0] + f" (wall {time.perf_counter() - started:.0f} s)")
    building.rename(path)
    return path


# -- serving ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict | None = None):
    """gunicorn with 2 workers on a free loopback port; yields (base URL, master process)."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "-w", "2", "-k", WORKER_CLASS, "-b", f"127.0.0.1:{port}"]
    if WORKER_CLASS == "gthread":
        command += ["--threads", str(THREADS)]
    process = subprocess.Popen(  # noqa: S603
        [*command, "--log-level", "warning", app],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2)  # noqa: S310 (loopback)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"gunicorn {app} did not start") from None
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def app_env(database: Path) -> dict:
    return {
        "RECRUITER_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "RECRUITER_SECRET_KEY": "bench-" + secrets.token_hex(16),
        "RECRUITER_MAIL_SERVER": "",
    }


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(base: str, email: str) -> str:
    """A real sign-in: GET the form, POST it with its CSRF token; returns the Cookie header.

    The app marks its cookies Secure outside development (it is meant to sit behind TLS), and
    a cookie jar would not send those back over plain loopback HTTP, so the cookies are
    carried by hand.
    """
    cookies: dict[str, str] = {}

    def keep(headers) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            cookies[name.strip()] = value.strip()

    def cookie_header() -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}

    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(base + "/login", timeout=30) as response:
        keep(response.headers)
        form = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"email": email, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    request = urllib.request.Request(  # noqa: S310 (our own loopback server)
        base + "/login", urllib.parse.urlencode(data).encode(), headers=cookie_header()
    )
    try:
        with opener.open(request, timeout=30) as response:
            keep(response.headers)
    except urllib.error.HTTPError as error:
        if error.code != 302:
            raise
        keep(error.headers)
    if "session" not in cookies:
        raise RuntimeError(f"sign-in as {email} failed")
    return cookie_header()["Cookie"]


def check_page(base: str, path: str, cookie: str) -> None:
    """The page answers 200 for this user (not a redirect to sign-in, not an error)."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310
    with opener.open(request, timeout=60) as response:
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")


# -- load ---------------------------------------------------------------------------------


def wrk(url: str, connections: int, seconds: int, cookie: str | None = None) -> dict:
    """Run wrk; returns rps and p95 in ms."""
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    command += ["-s", str(HERE / "report.lua")]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(  # noqa: S603
        [*command, url], check=True, capture_output=True, text=True
    ).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(re.search(r"^errors (\d+)", out, re.M).group(1))
    if bad or errors:
        raise RuntimeError(f"wrk saw errors on {url}:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p95_ms": int(re.search(r"^p95_us (\d+)", out, re.M).group(1)) / 1000,
    }


def single_client_p95(url: str, cookie: str) -> float:
    """p95 from one connection: the median of three runs of a third of BENCH_SECONDS each.

    The machine is shared; the median damps another tenant's burst landing on one run.
    """
    runs = sorted(wrk(url, 1, max(1, SECONDS // 3), cookie)["p95_ms"] for _ in range(3))
    return runs[1]


def worker_peak_rss_mb(master: subprocess.Popen) -> float:
    """The largest VmHWM (peak resident set) among the gunicorn master's workers."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return max(peaks)


def measure_pages(n: int, database: Path, with_rps: bool) -> tuple[dict, float | None]:
    """p95 (and rps, at the large size) of every built page; and the workers' peak RSS."""
    from recruiter import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": secrets.token_hex(32)}
    )
    urls = page_urls(app)
    results: dict[str, dict | None] = {}
    with gunicorn("wsgi:app", app_env(database)) as (base, master):
        cookies: dict[str, str] = {}
        for name, found in urls.items():
            if found is None:
                results[name] = None
                continue
            who, path = found
            cookie = cookies.get(who) or cookies.setdefault(who, sign_in(base, who))
            check_page(base, path, cookie)
            wrk(base + path, 16, 2, cookie)  # warm up: templates compiled, pages cached
            result = {"p95_ms": single_client_p95(base + path, cookie)}
            if with_rps:
                result["rps"] = wrk(base + path, 16, SECONDS, cookie)["rps"]
            log(f"n={n:,} {name} {path}: {result} (load {os.getloadavg()[0]:.1f})")
            results[name] = result
        rss = worker_peak_rss_mb(master)
    return results, rss


def measure_hello() -> float:
    with gunicorn("benchmarks.hello:app") as (base, _):
        wrk(base + "/", 16, 2)
        rps = wrk(base + "/", 16, SECONDS)["rps"]
    log(f"hello_rps {rps:.0f}")
    return rps


# -- report -------------------------------------------------------------------------------


def build_report(small: dict, large: dict, hello: float, extra: dict) -> tuple[list, dict]:
    """Table rows (name, value, target, verdict) and the JSON object."""
    rows: list[tuple[str, str, str, str]] = [("hello_rps", f"{hello:.0f}", "(floor)", "")]
    out: dict[str, float] = {"hello_rps": round(hello, 1)}

    def row(key: str, value: float, target: str, ok: bool, fmt: str = "{:.1f}") -> None:
        rows.append((key, fmt.format(value), target, "pass" if ok else "MISS"))
        out[key] = round(value, 3)

    for name in PAGES:
        if large.get(name) is None:
            rows.append((name, "not yet built", "", ""))
            continue
        big, base = large[name], small.get(name)
        row(
            f"{name}_rps", big["rps"], f">= {PAGE_RPS_SHARE * hello:.0f}", big["rps"] >= 0.1 * hello
        )
        row(f"{name}_p95_ms", big["p95_ms"], f"< {PAGE_P95_MS:g}", big["p95_ms"] < PAGE_P95_MS)
        if base:
            growth = big["p95_ms"] / base["p95_ms"]
            row(f"{name}_growth", growth, f"<= {PAGE_GROWTH:g}", growth <= PAGE_GROWTH, "{:.2f}")
    bulk = extra["bulk_reject_1000_s"]
    row("bulk_reject_1000_s", bulk, f"< {BULK_REJECT_S:g}", bulk < BULK_REJECT_S, "{:.2f}")
    worker, floor = extra["outbox_msgs_per_s"], extra["smtp_floor_msgs_per_s"]
    row("outbox_msgs_per_s", worker, f">= {OUTBOX_SHARE * floor:.0f}", worker >= 0.8 * floor)
    rows.append(("smtp_floor_msgs_per_s", f"{floor:.0f}", "(floor)", ""))
    out["smtp_floor_msgs_per_s"] = round(floor, 1)
    rss = extra["peak_rss_mb"]
    row("peak_rss_mb", rss, f"< {RSS_MB:g}", rss < RSS_MB)
    return rows, out


def print_table(rows: list, header: str) -> None:
    print(header)
    print(f"| {'measure':<24} | {'value':>14} | {'target':>9} | {'':<4} |")
    print(f"|{'-' * 26}|{'-' * 16}:|{'-' * 10}:|{'-' * 6}|")
    for key, value, target, verdict in rows:
        print(f"| {key:<24} | {value:>14} | {target:>9} | {verdict:<4} |")


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk (make bench does this)")
    small_n, large_n = min(SIZES), max(SIZES)
    started = time.monotonic()
    small_db, large_db = data_set(small_n), data_set(large_n)
    small, _ = measure_pages(small_n, small_db, with_rps=False)
    large, rss = measure_pages(large_n, large_db, with_rps=True)
    hello = measure_hello()
    log("bulk rejection of 1,000 applications ...")
    bulk = bulk_reject_1000_s(large_db)
    log("outbox delivery of 2,000 messages ...")
    with tempfile.TemporaryDirectory(prefix="recruiter-bench-") as folder:
        worker, floor = outbox_rates(Path(folder), free_port())
    extra = {
        "bulk_reject_1000_s": bulk,
        "outbox_msgs_per_s": worker,
        "smtp_floor_msgs_per_s": floor,
        "peak_rss_mb": rss,
    }
    rows, out = build_report(small, large, hello, extra)
    load = os.getloadavg()
    print_table(
        rows,
        f"\nrecruiter bench: {large_n:,} applications (growth against {small_n:,}), "
        f"gunicorn 2 x {WORKER_CLASS}, wrk 16 connections for rps and 1 for p95, "
        f"{SECONDS} s each; took {time.monotonic() - started:.0f} s; "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs\n",
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
