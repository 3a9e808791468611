"""Time one full DCGAN training step, and generation, in minigan and in PyTorch (CPU), float32.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_training_step.py

(The script re-executes itself without those two variables if they are set: OpenBLAS
reads them once, when it loads, and they can force a slower kernel than the CPU has.)

One step is ``mg.gan.Trainer.step`` on DESIGN.md's seed DCGAN (non-saturating loss,
one-sided label smoothing 0.9, Adam(2e-4, (0.5, 0.999)) for both players):

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

The same rounds also time **the step's GEMMs alone** ("gemms only"): the 33 matrix
products one minigan step makes, with its exact shapes (``step_gemms``), each whole,
run back to back by the BLAS on its threads on preallocated arrays -- no im2col, no
col2im, no BatchNorm, no Python. However the rest were made free, a step built on these
products could not be faster than that; the script prints it as a fraction of PyTorch's
whole step, next to the target.

Peak resident memory: each library trains in its own child process (this script with
``--rss-child``; the minigan child never imports torch), which reports its VmHWM
(peak RSS) after the imports and after ``--rss-steps`` steps.

``--smoke``: a tiny run (batch 4, 2 steps, 8 samples) that proves the script works (CI).
Nothing is written outside stdout unless ``--json PATH`` is given.
"""

import os
import sys

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # as common.BLAS_ENV_VARS

if __name__ == "__main__" and any(name in os.environ for name in BLAS_ENV_VARS):
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
import minigan as mg  # noqa: E402
from minigan.gan import trainer as trainer_module  # noqa: E402

TARGET_RATIO = 0.9     # the speed issue: minigan at most 0.9x PyTorch's time
LATENT_DIM = 100
REAL_LABEL = 0.9
LR, BETAS = 2e-4, (0.5, 0.999)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128],
                   help="batch sizes to time (default 64 128)")
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
                   help="also print cProfile's top functions of minigan's step (first batch size)")
    p.add_argument("--smoke", action="store_true",
                   help="batch 4, 2 steps, 1 warm-up, 8 samples, 2 RSS steps: proves it runs (CI)")
    p.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    p.add_argument("--rss-child", choices=["minigan", "torch"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
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


def build_torch(torch, trainer):
    """Twins of the minigan G and D in NCHW with the same weights, and their Adams."""
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
    G.train()
    D.train()
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    return G, D, opt_g, opt_d


def torch_step(torch, G, D, opt_g, opt_d, real, z_d, z_g):
    """PyTorch's version of Trainer.step: the same D and G updates (see the docstring)."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    n = real.shape[0]
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
    loss_g = bce(out, torch.ones(n, 1))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    D.requires_grad_(True)
    opt_g.step()
    return {"loss_d": loss_real.item() + loss_fake.item(), "loss_g": loss_g.item()}


def real_batch(n, seed=1):
    """A fixed batch of 'real' images (N, 28, 28, 1) in [-1, 1] (the timing ignores content)."""
    rng = np.random.default_rng(seed)
    return np.tanh(rng.standard_normal((n, 28, 28, 1), dtype=np.float32))


def nchw(torch, a):
    return torch.from_numpy(np.ascontiguousarray(mg.backend.to_numpy(a).transpose(0, 3, 1, 2)))


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
    z = np.zeros((n, LATENT_DIM), dtype=np.float32)
    g_rows = common.layer_macs(trainer.G, z)
    d_rows = common.layer_macs(trainer.D, np.zeros((n, 28, 28, 1), dtype=np.float32))
    g_fwd = common.step_gflop(g_rows, backward=False)
    g_bwd = common.step_gflop(g_rows, weight_grads=True, first_input_grad=False) - g_fwd
    d_train = common.step_gflop(d_rows, weight_grads=True, first_input_grad=False)
    d_frozen = common.step_gflop(d_rows, weight_grads=False, first_input_grad=True)
    return 2 * g_fwd + 2 * d_train + d_frozen + g_bwd, g_fwd


def step_gemms(n, dtype=np.float32, seed=0):
    """The matrix products of one Trainer.step of the DCGAN at batch n, ready to replay.

    Returns [(a, b, out)]: ``np.matmul(a, b, out=out)`` for each is a product minigan
    computes (same shapes; ``a`` a transposed view where minigan's is; ``b`` always
    contiguous, and each product whole on the BLAS's threads where minigan splits it
    into blocks on its own: the best case for this BLAS), listed layer by layer from
    functional/conv.py, conv_transpose.py and dense.py. Counts per step: D runs forward 3
    times (real, fake, fake in the G step), backward with weight gradients twice (input
    gradients of its second conv and Dense 3 times, of its first conv once: the G step),
    G forward twice and backward once (no input gradient at its Dense).
    """
    rng = np.random.default_rng(seed)

    def product(m, k, cols, transposed_a=False, times=1):
        a = rng.standard_normal((k, m) if transposed_a else (m, k), dtype=dtype)
        a = a.T if transposed_a else a
        b = rng.standard_normal((k, cols), dtype=dtype)
        return [(a, b, np.empty((m, cols), dtype=dtype))] * times

    gemms = []
    # D conv1 (1 -> 64, 5x5, stride 2, 28 -> 14): forward cols @ W, weight grad cols^T gy,
    # input grad gy W^T (G step only)
    gemms += product(n * 196, 25, 64, times=3)
    gemms += product(25, n * 196, 64, transposed_a=True, times=2)
    gemms += product(n * 196, 64, 25)
    # D conv2 (64 -> 128, 14 -> 7)
    gemms += product(n * 49, 1600, 128, times=3)
    gemms += product(1600, n * 49, 128, transposed_a=True, times=2)
    gemms += product(n * 49, 128, 1600, times=3)
    # D dense (6272 -> 1): forward, weight grad x^T gy, input grad gy W^T
    gemms += product(n, 6272, 1, times=3)
    gemms += product(6272, n, 1, transposed_a=True, times=2)
    gemms += product(n, 1, 6272, times=3)
    # G dense (100 -> 6272): forward twice, weight grad once
    gemms += product(n, 100, 6272, times=2)
    gemms += product(100, n, 6272, transposed_a=True)
    # G convT1 (128 -> 64, 7 -> 14): forward x W^T (col2im GEMM) twice; backward
    # cols(gy) @ W and the weight grad cols(gy)^T x
    gemms += product(n * 49, 128, 1600, times=2)
    gemms += product(n * 49, 1600, 128)
    gemms += product(1600, n * 49, 128, transposed_a=True)
    # G convT2 (64 -> 1, 14 -> 28): forward twice, backward input and weight grads
    gemms += product(n * 196, 64, 25, times=2)
    gemms += product(n * 196, 25, 64)
    gemms += product(25, n * 196, 64, transposed_a=True)
    return gemms


def run_gemms(gemms):
    for a, b, out in gemms:
        np.matmul(a, b, out=out)


# ---------------------------------------------------------------------------- checks

def first_step_agreement(torch, trainer, t_models, real):
    """Run one step of each on the same real batch and the same noise; compare losses."""
    n = real.shape[0]
    # the noise Trainer.step will draw at this step_count (stream numbers from trainer.py)
    z_d = trainer.noise(n, trainer_module._D_STREAMS)
    z_g = trainer.noise(n, trainer_module._G_NOISE)
    stats = trainer.step(real)
    t_stats = torch_step(torch, *t_models, nchw(torch, real), torch.from_numpy(z_d),
                         torch.from_numpy(z_g))
    return {k: {"minigan": stats[k], "torch": t_stats[k],
                "relative_difference": abs(stats[k] - t_stats[k]) / abs(t_stats[k])}
            for k in ("loss_d", "loss_g")}


def generation_agreement(torch, trainer, t_G, n):
    z = trainer.noise(n, 99)
    ours = trainer.sample(n, z=z)
    t_G.eval()
    with torch.no_grad():
        theirs = t_G(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
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
    import cProfile
    import pstats
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        trainer.step(real)
    profiler.disable()
    print(f"\ncProfile of {steps} minigan steps (top 25 by total time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv=None):
    args = parse_args(argv)
    if args.rss_child:
        return rss_child(args)
    torch = common.import_torch_with_threads(args.no_torch, args.threads)

    if os.environ.get("MINIGAN_BENCH_REEXEC"):
        print(f"(re-executed without {os.environ['MINIGAN_BENCH_REEXEC']}: OpenBLAS reads "
              "them at load time)")
    warning = common.blas_env_warning()
    if warning:
        print(warning)
    print("DCGAN full training step (Trainer.step: D update on real + fake, G update through "
          "the frozen D, Adam), float32, minigan (NumPy, NHWC)"
          + (" vs PyTorch CPU (NCHW)" if torch is not None else ""))
    report = common.machine_report()
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
        trainer = build_minigan()
        real = real_batch(n)
        gflop, _ = step_gflop(trainer, n)
        floor = gflop / args.peak_gflops
        entry = {"gflop_per_step": gflop, "floor_s": floor}
        gemms = step_gemms(n)
        fns = {"minigan": lambda: trainer.step(real), "gemms only": lambda: run_gemms(gemms)}
        if torch is not None:
            t_models = build_torch(torch, trainer)
            entry["agreement"] = agree = first_step_agreement(torch, trainer, t_models, real)
            print(f"\nbatch {n}: first step, same weights and noise: "
                  + ", ".join(f"{k} minigan {v['minigan']:.6f} torch {v['torch']:.6f} "
                              f"(rel. diff {v['relative_difference']:.1e})"
                              for k, v in agree.items()))
            for k, v in agree.items():
                if not v["relative_difference"] < 1e-3:
                    raise SystemExit(f"minigan and torch disagree on {k}: {v}")
            real_t = nchw(torch, real)
            fns["torch"] = lambda: torch_step(torch, *t_models, real_t,
                                              torch.randn(n, LATENT_DIM),
                                              torch.randn(n, LATENT_DIM))
        else:
            print(f"\nbatch {n}:")
        print(f"  GEMM work per step (analytical, 2 FLOP/MAC): {gflop:.2f} GFLOP; floor at "
              f"{args.peak_gflops:g} GFLOP/s: {floor * 1e3:.1f} ms")
        times = common.time_interleaved(fns, warmup=args.warmup, steps=args.steps, timer=timer,
                                        pause=args.pause)
        stats = common.summarise(times)
        print(f"  {'':<10} {'median ms':>10} {'p10':>8} {'p90':>8} {'GFLOP/s':>8} "
              f"{'floor/median':>12}")
        for lib, s in stats.items():
            s["gflop_per_s"] = gflop / s["median"]
            s["floor_fraction"] = floor / s["median"]
            print(f"  {lib:<10} {common.format_ms(s['median']):>10} "
                  f"{common.format_ms(s['p10'])} {common.format_ms(s['p90'])} "
                  f"{s['gflop_per_s']:8.1f} {s['floor_fraction']:12.2f}")
        print(f"  ({len(gemms)} products in 'gemms only': the step's GEMMs alone, see "
              "step_gemms)")
        if torch is not None:
            ratio = stats["minigan"]["median"] / stats["torch"]["median"]
            entry["ratio"] = ratio
            entry["gemms_only_ratio"] = gemm_ratio = \
                stats["gemms only"]["median"] / stats["torch"]["median"]
            verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
            print(f"  step ratio minigan/torch = {ratio:.2f}x ({verdict} the <= {TARGET_RATIO}x "
                  "target)")
            print(f"  the step's GEMMs alone take {gemm_ratio:.2f}x PyTorch's whole step: "
                  f"{max(0.0, TARGET_RATIO - gemm_ratio):.2f}x of it would be left for "
                  "everything else under the target")
        entry["stats"], entry["times"] = stats, times
        result["batches"][str(n)] = entry
        if args.profile and n == args.batch_sizes[0]:
            profile_minigan(trainer, real, max(args.steps, 1))

    # ---- generation
    trainer = build_minigan()
    gen = {"samples": args.samples}
    fns = {"minigan": lambda: trainer.sample(args.samples)}
    if torch is not None:
        t_G = build_torch(torch, trainer)[0]
        gen["agreement"] = generation_agreement(torch, trainer, t_G, args.samples)

        def torch_generate():
            t_G.eval()
            with torch.no_grad():
                out = t_G(torch.randn(args.samples, LATENT_DIM))
            t_G.train()
            return out
        fns["torch"] = torch_generate
    print(f"\ngeneration: {args.samples} samples, generator in eval mode"
          + (f" (same z: max relative difference {gen['agreement']:.1e})" if torch else ""))
    stats = common.summarise(common.time_interleaved(fns, warmup=args.warmup,
                                                     steps=args.gen_steps, timer=timer,
                                                     pause=args.pause))
    for lib, s in stats.items():
        print(f"  {lib:<9} {common.format_ms(s['median']):>10} {common.format_ms(s['p10'])} "
              f"{common.format_ms(s['p90'])}  (median, p10, p90 ms)")
    if torch is not None:
        gen["ratio"] = stats["minigan"]["median"] / stats["torch"]["median"]
        verdict = "meets" if gen["ratio"] <= TARGET_RATIO else "MISSES"
        print(f"  generation ratio minigan/torch = {gen['ratio']:.2f}x ({verdict} the "
              f"<= {TARGET_RATIO}x target)")
    gen["stats"] = stats
    result["generation"] = gen

    # ---- peak resident memory, one child process per library
    if not args.no_rss:
        result["rss"] = {}
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
                line += f"; ratio {ratio:.2f}"
            print(line)
            result["rss"][str(n)] = rows

    print("\nload at the end: " + " / ".join(f"{v:.2f}" for v in os.getloadavg()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
