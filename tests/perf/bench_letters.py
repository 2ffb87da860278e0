"""Benchmark of letter rendering (portal.letters.render). Prints figures; asserts nothing.

    python tests/perf/bench_letters.py [--count 1000] [--workers N] [--naive 10]

1. one introduction letter rendered warm (one Renderer reused): median of 50, in ms,
   with the QR code given as PNG data URI (the Renderer's default) and as inline SVG;
2. the size of one letter PDF (KB), with and without the compact CJK font embedding;
3. a batch of --count letters with one worker process per core, each worker building one
   Renderer and rendering its share: letters per second (wall clock, process start included,
   and steady state);
4. the naive way, a fresh Python process per letter: --naive processes are timed and the time
   for --count letters is extrapolated from them; the ratio naive / batched per letter.

Targets (2-core machine): warm letter <= 120 ms, batch >= 25 letters/s, one letter < 120 KB.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_WARM_MS = 120.0
TARGET_RATE = 25.0
TARGET_KB = 120.0

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "芳", "志强", "秀英", "海燕", "明", "静", "伟", "丽娟", "小龙"]
ORGS = ["中共南京市江宁区秣陵街道工作委员会", "中共深圳市南山区粤海街道工作委员会",
        "中共焦作市马村区待王街道工作委员会", "中共平凉市崆峒区东关街道工作委员会"]


def context(i: int) -> dict:
    """A realistic, distinct introduction letter context (number, name, QR URL differ)."""
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
    return {
        "doc": {"number": f"（朝组）字第 {i + 1} 号", "number_plain": str(i + 1), "prefix": "朝组",
                "year": 2026, "issued_on": dt.date(2026, 11, 23),
                "verify_url": f"https://portal.local/v/{i:04d}-9XHD",
                "verify_code": f"{i:04d}-9XHD", "void": False},
        "issuer": {"name": "中共北京市朝阳区人才服务中心流动人员委员会",
                   "address": "北京市朝阳区朝阳路100号", "phone": "010-65090000",
                   "fax": "010-65090001", "postcode": "100020", "seal_path": None},
        "member": {"name": name, "sex": "男" if i % 2 else "女", "age": 22 + i % 40,
                   "ethnicity": "汉族", "category": "正式党员" if i % 5 else "预备党员",
                   "id_number": f"1101051990{i % 10000:04d}1234"[:18], "phone": "13800138000"},
        "from_org": "中共北京市朝阳区人才服务中心流动人员委员会",
        "to_org": ORGS[i % len(ORGS)],
        "dues_paid_through": dt.date(2026, 1 + i % 12, 1),
        "validity_days": 30,
    }


def warm_median(renderer, n: int = 50) -> tuple[float, float, int, float]:
    """(median wall ms, p90 wall ms, PDF size, median CPU ms) over n warm letters."""
    for i in range(5):
        renderer.render("introduction", context(10_000 + i))
    times, cpu, size = [], [], 0
    for i in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        pdf = renderer.render("introduction", context(i))
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        size = len(pdf)
    times.sort()
    return statistics.median(times), times[int(n * 0.9) - 1], size, statistics.median(cpu)


def _worker(args):
    start, stop, qr_format = args
    t_start = time.time()
    from portal.letters.render import Renderer
    renderer = Renderer(qr_format=qr_format)
    t_ready, c_ready = time.time(), time.process_time()
    total = 0
    for i in range(start, stop):
        total += len(renderer.render("introduction", context(i)))
    return stop - start, total, t_start, t_ready, time.time(), time.process_time() - c_ready


def batch(count: int, workers: int, qr_format: str) -> dict:
    shares = [(count * w // workers, count * (w + 1) // workers, qr_format) for w in range(workers)]
    t0 = time.time()
    with mp.get_context("spawn").Pool(workers) as pool:
        results = pool.map(_worker, shares, chunksize=1)
    wall = time.time() - t0
    steady = sum(n / (done - ready) for n, _, _, ready, done, _ in results)
    setup = max(ready - start for _, _, start, ready, _, _ in results)
    cpu_rate = sum(n / cpu for n, *_, cpu in results)
    return {"wall": wall, "rate": count / wall, "steady": steady, "setup": setup,
            "cpu_rate": cpu_rate, "avg_kb": sum(r[1] for r in results) / count / 1024}


def one_letter(i: int) -> None:
    """Child process of the naive run: import, build a Renderer, render one letter."""
    from portal.letters.render import Renderer
    pdf = Renderer().render("introduction", context(i))
    sys.stdout.write(f"{len(pdf)}\n")


def naive(n: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--one", str(i)], check=True, env=env,
                       stdout=subprocess.DEVNULL, cwd=str(ROOT))
        times.append(time.perf_counter() - t0)
    return statistics.mean(times)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def cpu_idle(seconds: float = 1.0) -> float | None:
    """Share of CPU time idle on the machine over ``seconds`` (Linux /proc/stat), or None."""
    def snap():
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)
    try:
        idle0, total0 = snap()
        time.sleep(seconds)
        idle1, total1 = snap()
    except OSError:
        return None
    return (idle1 - idle0) / max(1, total1 - total0)


def machine_note() -> str:
    idle = cpu_idle()
    load = os.getloadavg()
    note = f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    if idle is not None:
        note += f", CPU idle {idle * 100:.0f}% before this step"
        if idle < 0.9:
            note += " (BUSY: other processes share the cores; wall-clock figures are pessimistic,"
            note += " CPU-time figures are the better guide)"
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="letters in the batch")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: one per core)")
    parser.add_argument("--naive", type=int, default=10, help="fresh processes to time")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        one_letter(args.one)
        return

    from portal.letters.render import Renderer

    print(f"letters benchmark: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    print(f"  {machine_note()}")
    t0 = time.perf_counter()
    renderer = Renderer()
    print(f"  Renderer() built in {(time.perf_counter() - t0) * 1000:.0f} ms "
          f"(first letter in a process also loads fonts)")

    med, p90, size, cpu = warm_median(renderer)
    print(f"1. one introduction letter, warm, QR as PNG data URI: median {med:.1f} ms "
          f"(p90 {p90:.1f}; CPU {cpu:.1f} ms) target <= {TARGET_WARM_MS:.0f} ms "
          f"{verdict(med <= TARGET_WARM_MS)}")
    med_svg, p90_svg, size_svg, cpu_svg = warm_median(Renderer(qr_format="svg"))
    print(f"   same, QR as inline SVG:                       median {med_svg:.1f} ms "
          f"(p90 {p90_svg:.1f}; CPU {cpu_svg:.1f} ms) {verdict(med_svg <= TARGET_WARM_MS)}")

    kb = size / 1024
    print(f"2. one letter PDF: {kb:.1f} KB (SVG QR: {size_svg / 1024:.1f} KB) "
          f"target < {TARGET_KB:.0f} KB {verdict(kb < TARGET_KB)}")
    med_plain, _, size_plain, _ = warm_median(Renderer(compact_fonts=False), n=20)
    print(f"   for reference, WeasyPrint's own font embedding: {size_plain / 1024:.1f} KB, "
          f"median {med_plain:.1f} ms")

    print(f"  {machine_note()}")
    b = batch(args.count, args.workers, "png")
    print(f"3. batch of {args.count} letters, {args.workers} worker processes: {b['wall']:.1f} s "
          f"wall -> {b['rate']:.1f} letters/s (process start and Renderer build included; "
          f"steady state {b['steady']:.1f}/s, setup {b['setup']:.1f} s) "
          f"target >= {TARGET_RATE:.0f}/s {verdict(b['rate'] >= TARGET_RATE)}")
    print(f"   CPU-time rate (letters per CPU-second of each worker, summed: what {args.workers} "
          f"unshared cores give): {b['cpu_rate']:.1f} letters/s "
          f"{verdict(b['cpu_rate'] >= TARGET_RATE)}")
    print(f"   average letter in the batch: {b['avg_kb']:.1f} KB")

    print(f"  {machine_note()}")
    per = naive(args.naive)
    batched_per = b["wall"] / args.count
    print(f"4. naive, a fresh Python process per letter: {per * 1000:.0f} ms per letter "
          f"(mean of {args.naive} processes)")
    print(f"   EXTRAPOLATED to {args.count} letters: {per * args.count:.0f} s "
          f"({per * args.count / 60:.1f} min) vs batched {b['wall']:.1f} s "
          f"-> batched is {per / batched_per:.0f}x faster per letter "
          f"({per * 1000:.0f} ms vs {batched_per * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
