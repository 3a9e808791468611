"""Time one full DCGAN training step, and generation, in minigan and in PyTorch, float32.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_training_step.py
    python benchmarks/bench_training_step.py --backend cupy          # on a GPU

(On the CPU the script re-executes itself without those two variables if they are set:
OpenBLAS reads them once, when it loads, and they can force a slower kernel than the CPU has.)

One step is ``mg.gan.Trainer.step`` on the MNIST DCGAN (non-saturating loss, one-sided
label smoothing 0.9, Adam(2e-4, (0.5, 0.999)) for both players):

    D step:  fake = G(z); D(real) -> BCE(., 0.9) -> backward; D(fake) -> BCE(., 0) ->
             backward (no input gradient at D's first layer); Adam on D
    G step:  fake = G(z'); D(fake) -> BCE(., 1) -> backward through the frozen D (input
             gradients only) -> G backward (no input gradient at G's first layer); Adam on G

PyTorch runs the identical networks (NCHW, minigan's weights copied in) through the same
computation: the first step of each is fed the same noise and the losses are compared
before anything is timed. Then full steps are timed interleaved round-robin with short
untimed pauses (``--pause``, see ``common.time_interleaved``) at every ``--batch-sizes``,
and the script prints medians, p10/p90, the ratio minigan / PyTorch, the achieved GFLOP/s
of the analytical GEMM work and the fraction of the physical floor (``--peak-gflops``,
the machine's float32 GEMM peak) that this is. Generation: ``--samples`` images from the
generator in eval mode (``Trainer.sample`` vs ``torch.no_grad`` + ``eval()``).

The same rounds also time **the step's GEMMs alone** ("gemms only"): the matrix products
one minigan step makes, recorded from a real step (``step_products.py``), each whole and
back to back on the BLAS's threads (or the GPU) -- no im2col, no col2im, no BatchNorm, no
Python. However the rest were made free, a step built on these products could not be
faster; the script prints the **overhead** (step minus GEMMs alone) as a fraction of the
GEMM time, next to the bars below.

Targets (the printed verdicts): on the CPU, the step at most 1.0x PyTorch's (resolved at
1.2x with an overhead of at most 0.35x the GEMM time), generation at most 0.9x, peak
memory at most 0.5x; on a GPU (``--backend cupy``: PyTorch on CUDA, TF32 off for the
ratio and also timed with TF32 on, every call synchronised) the step and generation at
most 2x PyTorch's.

Peak resident memory (CPU only): each library trains in its own child process (this
script with ``--rss-child``; the minigan child never imports torch), which reports its
VmHWM (peak RSS) after the imports and after ``--rss-steps`` steps.

``--profile`` prints, for the first batch size, where minigan's step spends its time,
primitive by primitive (``minigan.engine.profile``: wall time of each call with all its
threads, on a GPU synchronised around each call), and what is left outside them.
``--smoke``: a tiny run (batch 4, 2 steps, 8 samples) that proves the script works (CI).
Nothing is written outside stdout unless ``--json PATH`` is given.
"""

import os
import sys

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # as common.BLAS_ENV_VARS

if (__name__ == "__main__" and "cupy" not in sys.argv
        and any(name in os.environ for name in BLAS_ENV_VARS)):
    # OpenBLAS reads these when it is loaded (at ``import numpy``): the only way to
    # benchmark the kernel the CPU really supports is a fresh process without them.
    removed = " ".join(f"{name}={os.environ[name]}" for name in BLAS_ENV_VARS
                       if name in os.environ)
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV_VARS}
    env["MINIGAN_BENCH_REEXEC"] = removed
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root: `import minigan`
sys.path.insert(0, HERE)                   # `import common`

import common  # noqa: E402
import step_products  # noqa: E402

import minigan as mg  # noqa: E402
from minigan.gan import noise_streams  # noqa: E402

TARGETS = {  # verdicts printed by the script (see the docstring)
    "numpy": {"step": 1.0, "step_resolved": 1.2, "overhead": 0.35, "generation": 0.9,
              "memory": 0.5},
    "cupy": {"step": 2.0, "generation": 2.0},
}
LATENT_DIM = 100
REAL_LABEL = 0.9
LR, BETAS = 2e-4, (0.5, 0.999)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy",
                   help="minigan's backend; cupy times PyTorch on CUDA (default numpy)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=None,
                   help="batch sizes to time (default 64 128; 64 512 2048 with cupy)")
    p.add_argument("--steps", type=int, default=30, help="timed steps per library (default 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps (default 5)")
    p.add_argument("--threads", type=int, default=2,
                   help="threads for NumPy's BLAS and for torch (default 2)")
    p.add_argument("--samples", type=int, default=1000,
                   help="images generated per generation call (default 1000)")
    p.add_argument("--gen-steps", type=int, default=30,
                   help="timed generation calls per library (default 30)")
    p.add_argument("--rss-steps", type=int, default=10,
                   help="training steps in each peak-RSS child process (default 10)")
    p.add_argument("--no-rss", action="store_true", help="skip the peak-RSS child processes")
    p.add_argument("--no-torch", action="store_true", help="time minigan only")
    p.add_argument("--pause", type=float, default=0.2,
                   help="seconds of untimed sleep before each timed call (default 0.2)")
    p.add_argument("--cpu-time", action="store_true",
                   help="time with this process's CPU time (needs --threads 1)")
    p.add_argument("--peak-gflops", type=float, default=440.0,
                   help="the machine's float32 GEMM peak, GFLOP/s, for the floor (default 440)")
    p.add_argument("--profile", action="store_true",
                   help="also print minigan's step primitive by primitive (first batch size)")
    p.add_argument("--smoke", action="store_true",
                   help="batch 4, 2 steps, 1 warm-up, 8 samples, 2 RSS steps: proves it runs (CI)")
    p.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    p.add_argument("--rss-child", choices=["minigan", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.batch_sizes is None:
        args.batch_sizes = [64, 512, 2048] if args.backend == "cupy" else [64, 128]
    if args.backend == "cupy":
        args.no_rss = True   # peak RSS is a CPU measure
    if args.smoke:
        args.batch_sizes, args.steps, args.warmup, args.pause = [4], 2, 1, 0.0
        args.samples, args.gen_steps, args.rss_steps = 8, 2, 2
    if args.cpu_time and args.threads != 1:
        p.error("--cpu-time needs --threads 1 (CPU time adds up every thread's busy-waiting)")
    return args


# ---------------------------------------------------------------------------- models

def build_minigan(seed=0):
    rng = mg.backend.default_rng(seed)
    G = mg.gan.dcgan_generator(LATENT_DIM, rng=rng)
    D = mg.gan.dcgan_discriminator(rng=rng)
    trainer = mg.gan.Trainer(G, D, loss="non-saturating", lr_d=LR, lr_g=LR, betas=BETAS,
                             real_label=REAL_LABEL, seed=seed)
    return trainer


def build_torch(torch, trainer, device="cpu"):
    """Twins of the minigan G and D in NCHW with the same weights, on ``device``, and
    their Adams."""
    tnn = torch.nn
    G = tnn.Sequential(
        tnn.Linear(LATENT_DIM, 7 * 7 * 128), tnn.Unflatten(1, (128, 7, 7)),
        tnn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1),
        tnn.BatchNorm2d(64), tnn.ReLU(),
        tnn.ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1), tnn.Tanh())
    D = tnn.Sequential(
        tnn.Conv2d(1, 64, 5, stride=2, padding=2), tnn.LeakyReLU(0.2),
        tnn.Conv2d(64, 128, 5, stride=2, padding=2), tnn.BatchNorm2d(128), tnn.LeakyReLU(0.2),
        tnn.Flatten(), tnn.Linear(7 * 7 * 128, 1))
    mG, mD = trainer.G, trainer.D

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(mg.backend.to_numpy(a)))

    def kernel(a):  # (KH, KW, A, B) -> (B, A, KH, KW), for conv and conv-transpose alike
        return t(mg.backend.to_numpy(a).transpose(3, 2, 0, 1))

    with torch.no_grad():
        # minigan's Reshape(7, 7, 128) reads the Dense outputs in (h, w, c) order, torch's
        # Unflatten in (c, h, w) order: permute the Dense's output units to match
        w = mg.backend.to_numpy(mG[0].weight.data).reshape(LATENT_DIM, 7, 7, 128)
        G[0].weight.copy_(t(w.transpose(3, 1, 2, 0).reshape(7 * 7 * 128, LATENT_DIM)))
        b = mg.backend.to_numpy(mG[0].bias.data).reshape(7, 7, 128)
        G[0].bias.copy_(t(b.transpose(2, 0, 1).reshape(-1)))
        for ti, mi in ((2, 2), (5, 5)):
            G[ti].weight.copy_(kernel(mG[mi].weight.data))
            G[ti].bias.copy_(t(mG[mi].bias.data))
        G[3].weight.copy_(t(mG[3].weight.data))
        G[3].bias.copy_(t(mG[3].bias.data))
        for ti in (0, 2):
            D[ti].weight.copy_(kernel(mD[ti].weight.data))
            D[ti].bias.copy_(t(mD[ti].bias.data))
        D[3].weight.copy_(t(mD[3].weight.data))
        D[3].bias.copy_(t(mD[3].bias.data))
        # minigan flattens NHWC (h, w, c); torch flattens NCHW (c, h, w)
        w = mg.backend.to_numpy(mD[6].weight.data).reshape(7, 7, 128, 1).transpose(3, 2, 0, 1)
        D[6].weight.copy_(t(w.reshape(1, -1)))
        D[6].bias.copy_(t(mD[6].bias.data))
    G.to(device).train()
    D.to(device).train()
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    return G, D, opt_g, opt_d


def torch_step(torch, G, D, opt_g, opt_d, real, z_d, z_g):
    """PyTorch's version of Trainer.step: the same D and G updates (see the docstring)."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    with torch.no_grad():
        fake = G(z_d)
    opt_d.zero_grad(set_to_none=True)
    out_real = D(real)
    loss_real = bce(out_real, torch.full_like(out_real, REAL_LABEL))
    loss_real.backward()
    out_fake = D(fake)
    loss_fake = bce(out_fake, torch.zeros_like(out_fake))
    loss_fake.backward()
    opt_d.step()
    fake = G(z_g)
    D.requires_grad_(False)  # frozen: input gradients only
    out = D(fake)
    loss_g = bce(out, torch.ones_like(out))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    D.requires_grad_(True)
    opt_g.step()
    return {"loss_d": loss_real.item() + loss_fake.item(), "loss_g": loss_g.item()}


def real_batch(n, seed=1):
    """A fixed batch of 'real' images (N, 28, 28, 1) in [-1, 1] (the timing ignores content)."""
    rng = np.random.default_rng(seed)
    return np.tanh(rng.standard_normal((n, 28, 28, 1), dtype=np.float32))


def nchw(torch, a, device="cpu"):
    host = np.ascontiguousarray(mg.backend.to_numpy(a).transpose(0, 3, 1, 2))
    return torch.from_numpy(host).to(device)


def to_torch(torch, a, device):
    return torch.from_numpy(np.ascontiguousarray(mg.backend.to_numpy(a))).to(device)


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / (np.abs(b).max() + 1e-30))


# ---------------------------------------------------------------------------- work

def step_gflop(trainer, n):
    """Analytical GEMM GFLOP of one Trainer.step (2 FLOP per multiply-add).

    G forward twice (D step, G step); D forward + backward with weight gradients on the
    real and on the fake batch (no input gradient at its first layer); D forward +
    input gradients down to the image (G step); G backward with weight gradients and
    no input gradient at its first layer.
    """
    z = mg.backend.xp.zeros((n, LATENT_DIM), dtype=np.float32)
    g_rows = common.layer_macs(trainer.G, z)
    d_rows = common.layer_macs(trainer.D, mg.backend.xp.zeros((n, 28, 28, 1), dtype=np.float32))
    g_fwd = common.step_gflop(g_rows, backward=False)
    g_bwd = common.step_gflop(g_rows, weight_grads=True, first_input_grad=False) - g_fwd
    d_train = common.step_gflop(d_rows, weight_grads=True, first_input_grad=False)
    d_frozen = common.step_gflop(d_rows, weight_grads=False, first_input_grad=True)
    return 2 * g_fwd + 2 * d_train + d_frozen + g_bwd, g_fwd


# ---------------------------------------------------------------------------- checks

def first_step_agreement(torch, trainer, t_models, real, device="cpu"):
    """Run one step of each on the same real batch and the same noise; compare losses."""
    n = real.shape[0]
    # the noise Trainer.step will draw at this step_count (minigan.gan.noise_streams)
    z_d = trainer.noise(n, noise_streams.d_stream(0) + noise_streams.D_NOISE)
    z_g = trainer.noise(n, noise_streams.G_NOISE)
    stats = trainer.step(real)
    t_stats = torch_step(torch, *t_models, nchw(torch, real, device),
                         to_torch(torch, z_d, device), to_torch(torch, z_g, device))
    return {k: {"minigan": stats[k], "torch": t_stats[k],
                "relative_difference": abs(stats[k] - t_stats[k]) / abs(t_stats[k])}
            for k in ("loss_d", "loss_g")}


def generation_agreement(torch, trainer, t_G, n, device="cpu"):
    z = trainer.noise(n, 99)
    ours = mg.backend.to_numpy(trainer.sample(n, z=z))
    t_G.eval()
    with torch.no_grad():
        theirs = t_G(to_torch(torch, z, device)).cpu().numpy().transpose(0, 2, 3, 1)
    t_G.train()
    return rel(ours, theirs)


# ---------------------------------------------------------------------------- RSS child

def proc_status_kib(field):
    """A ``field`` ("VmHWM": peak resident set, "VmRSS": now) of /proc/self/status in KiB;
    None where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def vm_hwm_kib():
    """This process's peak resident set (VmHWM) in KiB, from /proc; ru_maxrss elsewhere."""
    peak = proc_status_kib("VmHWM")
    if peak is None:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak


def vm_rss_kib():
    return proc_status_kib("VmRSS")


def rss_child(args):
    """Train ``args.rss_steps`` steps with one library; print one JSON line of RSS figures."""
    n = args.batch_sizes[0]
    torch = None
    if args.rss_child == "torch":
        import torch
        torch.set_num_threads(args.threads)
    common.limit_threads(args.threads)
    after_import = vm_rss_kib()
    real = real_batch(n)
    trainer = build_minigan()
    if torch is None:
        for _ in range(args.rss_steps):
            trainer.step(real)
        trainer.sample(args.samples)
    else:
        G, D, opt_g, opt_d = build_torch(torch, trainer)
        del trainer
        real_t = nchw(torch, real)
        for _ in range(args.rss_steps):
            torch_step(torch, G, D, opt_g, opt_d, real_t, torch.randn(n, LATENT_DIM),
                       torch.randn(n, LATENT_DIM))
        G.eval()
        with torch.no_grad():
            G(torch.randn(args.samples, LATENT_DIM))
    print(json.dumps({"library": args.rss_child, "batch": n, "rss_after_import_kib": after_import,
                      "peak_rss_kib": vm_hwm_kib()}))
    return 0


def measure_rss(args, library, n):
    cmd = [sys.executable, os.path.abspath(__file__), "--rss-child", library,
           "--batch-sizes", str(n), "--threads", str(args.threads),
           "--rss-steps", str(args.rss_steps), "--samples", str(args.samples)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"RSS child {library} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- main

def profile_minigan(trainer, real, steps):
    """minigan's step primitive by primitive, per step, slowest first."""
    with mg.engine.profile() as profile:
        for _ in range(steps):
            trainer.step(real)
    print(f"\nwhere minigan's step goes ({steps} steps, per step; {mg.engine.active().name} "
          "engine, each primitive's wall time with all its threads):")
    for line in profile.table(per=steps):
        print("  " + line)
    return {f"{name} {what}": {"calls": calls / steps, "seconds": seconds / steps}
            for (name, what), (calls, seconds) in profile.rows.items()}


class Device:
    """Where the two libraries run: minigan's backend, torch's device, how to wait for them."""

    def __init__(self, backend_name, torch):
        self.name = backend_name
        mg.backend.use(backend_name)   # a clear error where CuPy or a GPU is missing
        self.torch_device = "cuda" if backend_name == "cupy" else "cpu"
        if torch is not None and backend_name == "cupy" and not torch.cuda.is_available():
            raise SystemExit("--backend cupy: torch cannot see a CUDA device")
        self.torch = torch

    def timed(self, fn):
        """fn, then wait until the device has finished (the timer must see the work)."""
        if self.name == "numpy":
            return fn

        def synchronised():
            fn()
            mg.backend.synchronize()
            if self.torch is not None:
                self.torch.cuda.synchronize()
        return synchronised

    def tf32(self, on):
        """PyTorch's TF32 products on CUDA on or off (no effect on the CPU)."""
        if self.torch is not None and self.name == "cupy":
            self.torch.backends.cuda.matmul.allow_tf32 = on
            self.torch.backends.cudnn.allow_tf32 = on


def verdict(value, target):
    return f"{'meets' if value <= target else 'MISSES'} the <= {target}x target"


def time_batch(args, device, torch, n, timer):
    """One batch size: agreement, interleaved timings, ratios, overhead. Returns a dict."""
    targets = TARGETS[device.name]
    trainer = build_minigan()
    real = mg.backend.to_device(real_batch(n))
    gflop, _ = step_gflop(trainer, n)
    floor = gflop / args.peak_gflops
    entry = {"gflop_per_step": gflop, "floor_s": floor}
    products = step_products.record(build_minigan, real)
    gemms = step_products.replay_arrays(products)
    fns = {"minigan": lambda: trainer.step(real),
           "gemms only": lambda: step_products.replay(gemms)}
    if torch is not None:
        dev = device.torch_device
        device.tf32(False)
        t_models = build_torch(torch, trainer, dev)
        entry["agreement"] = agree = first_step_agreement(torch, trainer, t_models, real, dev)
        print(f"\nbatch {n}: first step, same weights and noise: "
              + ", ".join(f"{k} minigan {v['minigan']:.6f} torch {v['torch']:.6f} "
                          f"(rel. diff {v['relative_difference']:.1e})"
                          for k, v in agree.items()))
        for k, v in agree.items():
            if not v["relative_difference"] < 1e-3:
                raise SystemExit(f"minigan and torch disagree on {k}: {v}")
        real_t = nchw(torch, real, dev)

        def torch_fn(tf32):
            def run():
                device.tf32(tf32)
                torch_step(torch, *t_models, real_t, torch.randn(n, LATENT_DIM, device=dev),
                           torch.randn(n, LATENT_DIM, device=dev))
            return run
        fns["torch"] = torch_fn(False)
        if device.name == "cupy":
            fns["torch tf32"] = torch_fn(True)
    else:
        print(f"\nbatch {n}:")
    print(f"  GEMM work per step (analytical, 2 FLOP/MAC): {gflop:.2f} GFLOP; floor at "
          f"{args.peak_gflops:g} GFLOP/s: {floor * 1e3:.1f} ms")
    times = common.time_interleaved({k: device.timed(f) for k, f in fns.items()},
                                    warmup=args.warmup, steps=args.steps, timer=timer,
                                    pause=args.pause)
    device.tf32(False)
    stats = common.summarise(times)
    print(f"  {'':<10} {'median ms':>10} {'p10':>8} {'p90':>8} {'GFLOP/s':>8} "
          f"{'floor/median':>12}")
    for lib, st in stats.items():
        st["gflop_per_s"] = gflop / st["median"]
        st["floor_fraction"] = floor / st["median"]
        print(f"  {lib:<10} {common.format_ms(st['median']):>10} "
              f"{common.format_ms(st['p10'])} {common.format_ms(st['p90'])} "
              f"{st['gflop_per_s']:8.1f} {st['floor_fraction']:12.2f}")
    gemm_s = stats["gemms only"]["median"]
    entry["overhead_s"] = overhead = stats["minigan"]["median"] - gemm_s
    entry["overhead_fraction"] = overhead / gemm_s
    print(f"  ({len(products)} products in 'gemms only': the step's GEMMs alone, recorded from "
          "a step; see step_products.py)")
    line = (f"  overhead: step - GEMMs alone = {overhead * 1e3:.1f} ms = "
            f"{entry['overhead_fraction']:.2f}x the GEMM time")
    if "overhead" in targets:
        line += f" ({verdict(entry['overhead_fraction'], targets['overhead'])[:-7]} bar)"
    print(line)
    if torch is not None:
        entry["ratio"] = ratio = stats["minigan"]["median"] / stats["torch"]["median"]
        entry["gemms_only_ratio"] = gemm_s / stats["torch"]["median"]
        line = f"  step ratio minigan/torch = {ratio:.2f}x ({verdict(ratio, targets['step'])}"
        if "step_resolved" in targets:
            line += f"; {verdict(ratio, targets['step_resolved'])[:-7]} bar"
        print(line + ")")
        if "torch tf32" in stats:
            entry["ratio_tf32"] = stats["minigan"]["median"] / stats["torch tf32"]["median"]
            print(f"  against PyTorch with TF32 on: {entry['ratio_tf32']:.2f}x")
        print(f"  the step's GEMMs alone take {entry['gemms_only_ratio']:.2f}x PyTorch's whole "
              "step")
    entry["stats"], entry["times"] = stats, times
    if args.profile and n == args.batch_sizes[0]:
        entry["profile"] = profile_minigan(trainer, real, max(args.steps, 1))
    return entry


def time_generation(args, device, torch, timer):
    trainer = build_minigan()
    gen = {"samples": args.samples}
    fns = {"minigan": lambda: trainer.sample(args.samples)}
    if torch is not None:
        dev = device.torch_device
        t_G = build_torch(torch, trainer, dev)[0]
        gen["agreement"] = generation_agreement(torch, trainer, t_G, args.samples, dev)

        def torch_generate():
            t_G.eval()
            with torch.no_grad():
                out = t_G(torch.randn(args.samples, LATENT_DIM, device=dev))
            t_G.train()
            return out
        fns["torch"] = torch_generate
    print(f"\ngeneration: {args.samples} samples, generator in eval mode"
          + (f" (same z: max relative difference {gen['agreement']:.1e})" if torch else ""))
    stats = common.summarise(common.time_interleaved(
        {k: device.timed(f) for k, f in fns.items()}, warmup=args.warmup,
        steps=args.gen_steps, timer=timer, pause=args.pause))
    for lib, st in stats.items():
        print(f"  {lib:<9} {common.format_ms(st['median']):>10} {common.format_ms(st['p10'])} "
              f"{common.format_ms(st['p90'])}  (median, p10, p90 ms)")
    if torch is not None:
        gen["ratio"] = stats["minigan"]["median"] / stats["torch"]["median"]
        print(f"  generation ratio minigan/torch = {gen['ratio']:.2f}x "
              f"({verdict(gen['ratio'], TARGETS[device.name]['generation'])})")
    gen["stats"] = stats
    return gen


def measure_memory(args, torch):
    result = {}
    libraries = ["minigan"] + (["torch"] if torch is not None else [])
    print(f"\npeak resident memory (VmHWM), each library alone in a child process, "
          f"{args.rss_steps} steps + one generation call:")
    for n in args.batch_sizes:
        rows = {lib: measure_rss(args, lib, n) for lib in libraries}
        line = f"  batch {n:>4}: " + ", ".join(
            f"{lib} {r['peak_rss_kib'] / 1024:.0f} MiB (after imports "
            f"{r['rss_after_import_kib'] / 1024:.0f} MiB)" for lib, r in rows.items())
        if torch is not None:
            ratio = rows["minigan"]["peak_rss_kib"] / rows["torch"]["peak_rss_kib"]
            rows["ratio"] = ratio
            line += f"; ratio {ratio:.2f} ({verdict(ratio, TARGETS['numpy']['memory'])})"
        print(line)
        result[str(n)] = rows
    return result


def main(argv=None):
    args = parse_args(argv)
    if args.rss_child:
        return rss_child(args)
    torch = common.import_torch_with_threads(args.no_torch, args.threads)
    device = Device(args.backend, torch)

    if os.environ.get("MINIGAN_BENCH_REEXEC"):
        print(f"(re-executed without {os.environ['MINIGAN_BENCH_REEXEC']}: OpenBLAS reads "
              "them at load time)")
    warning = common.blas_env_warning() if device.name == "numpy" else None
    if warning:
        print(warning)
    where = ("minigan (NumPy, NHWC) vs PyTorch CPU (NCHW)" if device.name == "numpy" else
             "minigan (CuPy, NHWC) vs PyTorch CUDA (NCHW; TF32 off, and on)")
    print("DCGAN full training step (Trainer.step: D update on real + fake, G update through "
          "the frozen D, Adam), float32, "
          + (where if torch is not None else where.split(" vs")[0]))
    report = common.machine_report()
    if device.name == "cupy":
        report["gpu"] = common.gpu_report(torch)
    print(common.format_machine_report(report))
    notes = [common.kernel_mismatch_note(report), common.load_warning(report, args.threads)]
    for note in filter(None, notes):
        print(note)
    timer = time.process_time if args.cpu_time else time.perf_counter
    print(f"{args.threads} threads, {args.warmup} warm-up + {args.steps} timed steps per library "
          f"and batch size, interleaved round-robin with {args.pause:g} s pauses, "
          + ("CPU time (--cpu-time)" if args.cpu_time else "wall-clock time"))

    result = {"args": vars(args), "machine": report,
              "warnings": [w for w in [warning] + notes if w], "batches": {}}
    for n in args.batch_sizes:
        result["batches"][str(n)] = time_batch(args, device, torch, n, timer)
    result["generation"] = time_generation(args, device, torch, timer)
    if not args.no_rss:
        result["rss"] = measure_memory(args, torch)

    print("\nload at the end: " + " / ".join(f"{v:.2f}" for v in os.getloadavg()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
