"""Peak RSS of whole `loom run` processes: today's code against this tree, and Loom's GAN against the naive loop.

    python bench/memory_rss.py [--images 16000] [--gan-images 10000] [--rounds 3] [--cases classify,gan]

Two side-by-side comparisons, each ABBA over ``--rounds`` rounds (bench/abba.py):

* **classify**: ``resources/examples/classify_folder.json`` on a folder of
  ``--images`` 32 px PNGs (4 class folders), run by the code at ``--base``
  (default 15a9f74, "today": that commit's tree unpacked in a temporary
  folder with ``git archive`` and run with ``cwd`` and ``PYTHONPATH`` there) and by this tree ("now").  Target:
  now's peak RSS at most 0.7x today's (the ratio printed is today / now, so
  >= 1.43 means a drop of 30 % or more).
* **gan**: ``train_gan`` (DCGAN, as in gan_shapes.json) on a folder of
  ``--gan-images`` 32 px PNGs, one epoch, against ``bench/naive_gan_loop.py``
  (torchvision ImageFolder + transforms + DataLoader + the same DCGAN) for the
  same number of optimisation steps.  Target: Loom / naive <= 1.1.

Every case is a fresh subprocess with its own ``LOOM_HOME`` and cache folder
(a cold node cache), and its peak RSS is the child's own ``ru_maxrss`` from
``os.wait4``.  The bench process itself never imports torch: a child's
``ru_maxrss`` starts at its parent's RSS, so a big parent would hide it.  The PNGs are drawn by engine.data.shapes and written once per
bench run in a temporary folder.  Every round is printed with the load
average, then the median ratio and the spread; the bench exits by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.abba import abba, load_average, ratios, summary  # noqa: E402
from bench.old_tree import unpack_commit  # noqa: E402
from bench.png_folder import write_shape_pngs  # noqa: E402

BASE_COMMIT = "15a9f74"
NAIVE = ROOT / "bench" / "naive_gan_loop.py"
GAN_BATCH = 64


def write_png_folder(folder: Path, count: int, size: int = 32, seed: int = 0) -> Path:
    """``count`` shapes as PNG files in one subfolder per class (what ImageFolder and image_folder both read).

    Drawn in a child process: this one must stay small, because a child's
    ``ru_maxrss`` starts from its parent's RSS at fork (vfork/exec keeps the
    high-water mark), which would hide any child smaller than the parent.
    """
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--write-pngs", str(folder), str(count),
                    str(size), str(seed)], check=True, cwd=ROOT)
    return folder


def _write_pngs(folder: Path, count: int, size: int, seed: int) -> None:
    write_shape_pngs(folder, count, size, seed=seed)


def peak_rss_mb(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, float]:
    """Run ``cmd`` to the end; its own peak RSS (MB, from ``os.wait4``) and wall seconds. Fails loudly."""
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}); see {log}:\n{log.read_text()[-3000:]}")
    return usage.ru_maxrss / 1024, wall  # Linux reports kB


class Runner:
    """Fresh LOOM_HOME / cache per run, so every run decodes its folder cold."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.n = 0

    def env(self, code: Path) -> dict[str, str]:
        self.n += 1
        home = self.tmp / f"home{self.n}"
        env = dict(os.environ, LOOM_HOME=str(home), LOOM_CACHE_DIR=str(home / "cache"),
                   XDG_CACHE_HOME=str(home / "xdg"), PYTHONPATH=str(code))
        return env

    def loom(self, code: Path, flow: Path, sets: list[str]) -> tuple[float, float]:
        cmd = [sys.executable, "-m", "engine.cli", "run", str(flow), "--out", str(self.tmp / f"out{self.n + 1}")]
        for s in sets:
            cmd += ["--set", s]
        return peak_rss_mb(cmd, code, self.env(code), self.tmp / f"log{self.n + 1}.txt")

    def naive(self, folder: Path, steps: int) -> tuple[float, float]:
        cmd = [sys.executable, str(NAIVE), str(folder), "--steps", str(steps), "--batch-size", str(GAN_BATCH)]
        return peak_rss_mb(cmd, ROOT, self.env(ROOT), self.tmp / f"log{self.n + 1}.txt")


def gan_flow(path: Path) -> Path:
    """gan_shapes.json with an image folder as its data (the DCGAN, normalise to -1..1, one epoch)."""
    flow = json.loads((ROOT / "resources" / "examples" / "gan_shapes.json").read_text())
    nodes = {n["id"]: n for n in flow["nodes"]}
    nodes["data"]["type"] = "image_folder"
    nodes["data"]["params"] = {"path": "", "size": 32, "channels": "3"}
    nodes["model"]["params"] = {"latent_dim": 100, "width": 32}
    nodes["train"]["params"].update({"epochs": 1, "batch_size": GAN_BATCH, "sample_every": 1000})
    nodes["train"]["params"].pop("label_smoothing", None)
    path.write_text(json.dumps(flow))
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--write-pngs"]:
        _write_pngs(Path(argv[1]), int(argv[2]), int(argv[3]), int(argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=16000, help="PNG files for the classify case")
    ap.add_argument("--gan-images", type=int, default=10000, help="PNG files for the GAN case")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=1, help="classifier epochs (peak RSS is reached in the first)")
    ap.add_argument("--time-budget", type=float, default=0.5,
                    help="the classifier's train.time_budget in minutes (0 = the whole epoch); evaluation follows")
    ap.add_argument("--cases", default="classify,gan")
    ap.add_argument("--base", default=BASE_COMMIT, help="the commit that is 'today'")
    args = ap.parse_args(argv)
    cases = {c.strip() for c in args.cases.split(",") if c.strip()}
    if "gan" in cases and not NAIVE.exists():
        sys.exit(f"{NAIVE} is missing: the gan case compares against the naive tutorial loop there")
    tmp = Path(tempfile.mkdtemp(prefix="loom-rss-"))
    today: Path | None = None
    print(f"memory_rss: {os.cpu_count()} CPUs, {load_average()}, temp {tmp}", flush=True)
    assert "torch" not in sys.modules, "the parent must stay small (see write_png_folder)"
    try:
        run = Runner(tmp)
        if "classify" in cases:
            t0 = time.perf_counter()
            folder = write_png_folder(tmp / "classify_png", args.images)
            print(f"wrote {args.images} PNGs in {time.perf_counter() - t0:.1f} s", flush=True)
            today = unpack_commit(args.base, tmp / "today")
            flow = ROOT / "resources" / "examples" / "classify_folder.json"
            sets = [f"data.path={folder}", f"train.epochs={args.epochs}", f"train.time_budget={args.time_budget}"]

            def side(code: Path, label: str):
                def measure() -> tuple[float, float]:
                    rss, wall = run.loom(code, flow, sets)
                    print(f"    {label}: peak RSS {rss:,.0f} MB, {wall:.1f} s", flush=True)
                    # abba wants a rate (higher is better): 1000 / peak MB, so its ratio now/today is today's RSS / now's
                    return (1000.0 / rss, rss)
                return measure

            print(f"classify_folder.json, {args.images} images, A = now, B = today ({args.base}); "
                  "A and B are 1000 / peak MB, so ratio = today's RSS / now's", flush=True)
            pairs = abba(side(ROOT, "now"), side(today, "today"), args.rounds, "classify round")
            pairs_mb = [((a[1],), (b[1],)) for a, b in pairs]
            per_round = ratios(pairs)
            print(f"classify: now median {statistics.median(p[0][0] for p in pairs_mb):,.0f} MB, today median "
                  f"{statistics.median(p[1][0] for p in pairs_mb):,.0f} MB; drop "
                  f"{(1 - 1 / statistics.median(per_round)) * 100:.0f} % (target >= 30 %)")
            print(summary("classify today/now RSS", per_round, round(1 / 0.7, 3)), flush=True)
            shutil.rmtree(folder, ignore_errors=True)
        if "gan" in cases:
            t0 = time.perf_counter()
            folder = write_png_folder(tmp / "gan_png", args.gan_images, seed=1)
            print(f"wrote {args.gan_images} PNGs in {time.perf_counter() - t0:.1f} s", flush=True)
            flow = gan_flow(tmp / "gan_folder.json")
            steps = args.gan_images // GAN_BATCH  # one epoch, drop_last: what train_gan runs

            def loom() -> tuple[float, float]:
                rss, wall = run.loom(ROOT, flow, [f"data.path={folder}"])
                print(f"    loom: peak RSS {rss:,.0f} MB, {wall:.1f} s", flush=True)
                return (1000.0 / rss, rss)

            def naive() -> tuple[float, float]:
                rss, wall = run.naive(folder, steps)
                print(f"    naive: peak RSS {rss:,.0f} MB, {wall:.1f} s", flush=True)
                return (1000.0 / rss, rss)

            print(f"train_gan on {args.gan_images} PNGs ({steps} steps), A = naive loop, B = Loom; "
                  "A and B are 1000 / peak MB, so ratio = Loom's RSS / naive's", flush=True)
            pairs = abba(naive, loom, args.rounds, "gan round")
            per_round = ratios(pairs)
            print(f"gan: loom median {statistics.median(p[1][1] for p in pairs):,.0f} MB, naive median "
                  f"{statistics.median(p[0][1] for p in pairs):,.0f} MB")
            print(summary("gan loom/naive RSS", per_round), "(target <= 1.1)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
