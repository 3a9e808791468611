"""Time the DCGAN discriminator's forward + backward in minigan and in PyTorch (CPU), float32.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_discriminator.py

The network (the MNIST DCGAN's discriminator, 28x28x1 input):

    Conv2d(1, 64, 5, s2, p2) -> LeakyReLU(0.2) -> Conv2d(64, 128, 5, s2, p2)
    -> BatchNorm2d(128) -> LeakyReLU(0.2) -> Flatten -> Dense(7*7*128, 1)

Two variants, both forward + backward of a random upstream gradient gy:

* "D step":  the discriminator's own training step: weight gradients for every
  layer, no input gradient for the first layer (``need_input_grad=False``);
* "G step":  the generator's step *through* a frozen D: input gradient all the way
  down to the image, no weight gradients (``freeze()`` / ``requires_grad_(False)``).

minigan runs NHWC on NumPy, torch the same weights in NCHW; both with the same number
of threads (``--threads``: OpenBLAS via threadpoolctl, ``torch.set_num_threads``).
The steps are interleaved round-robin so both see the same machine noise, with a short
untimed pause before each (``--pause``) so that OpenBLAS's busy-waiting worker threads
do not steal torch's cores (on 2 cores that doubled torch's D-step time); the script
reports medians (p10/p90), the ratio minigan/torch and the achieved GFLOP/s of the
analytical GEMM work. ``--per-layer`` adds a forward/backward breakdown per layer.
Nothing is written outside stdout unless ``--json PATH`` is given.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository root: `import minigan`
sys.path.insert(0, HERE)                   # `import common`

import common  # noqa: E402

import minigan as mg  # noqa: E402

TARGET_RATIO = 1.5  # the goal this benchmark was written for: within 1.5x of PyTorch's time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--steps", type=int, default=30, help="timed steps per variant (default 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps (default 5)")
    p.add_argument("--threads", type=int, default=2,
                   help="threads for NumPy's BLAS and for torch (default 2)")
    p.add_argument("--smoke", action="store_true",
                   help="batch 4, 2 steps, 1 warm-up: proves the script runs (CI)")
    p.add_argument("--no-torch", action="store_true", help="time minigan only")
    p.add_argument("--per-layer", action="store_true",
                   help="also time each layer's forward and backward separately")
    p.add_argument("--pause", type=float, default=0.2,
                   help="seconds of untimed sleep before each timed step, so the other "
                        "library's busy-waiting threads go idle (default 0.2; 0 with --smoke)")
    p.add_argument("--cpu-time", action="store_true",
                   help="time with this process's CPU time instead of wall-clock time: "
                        "insensitive to other processes on a busy machine; needs --threads 1")
    p.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    args = p.parse_args(argv)
    if args.smoke:
        args.batch, args.steps, args.warmup, args.pause = 4, 2, 1, 0.0
    if args.cpu_time and args.threads != 1:
        p.error("--cpu-time needs --threads 1 (CPU time adds up every thread's busy-waiting)")
    return args


# ---------------------------------------------------------------------------- models

def build_minigan():
    nn = mg.nn
    return nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 5, stride=2, padding=2), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Dense(7 * 7 * 128, 1))


def build_torch(torch, mg_model):
    """The same network in NCHW, with minigan's weights copied in (so outputs can be compared)."""
    tnn = torch.nn
    model = tnn.Sequential(
        tnn.Conv2d(1, 64, 5, stride=2, padding=2), tnn.LeakyReLU(0.2),
        tnn.Conv2d(64, 128, 5, stride=2, padding=2), tnn.BatchNorm2d(128), tnn.LeakyReLU(0.2),
        tnn.Flatten(), tnn.Linear(7 * 7 * 128, 1))
    conv1, conv2, bn, dense = mg_model[0], mg_model[2], mg_model[3], mg_model[6]

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    with torch.no_grad():
        for tc, mc in ((model[0], conv1), (model[2], conv2)):
            tc.weight.copy_(t(mc.weight.data.transpose(3, 2, 0, 1)))  # (KH,KW,I,O) -> (O,I,KH,KW)
            tc.bias.copy_(t(mc.bias.data))
        model[3].weight.copy_(t(bn.weight.data))
        model[3].bias.copy_(t(bn.bias.data))
        # minigan flattens NHWC (h, w, c); torch flattens NCHW (c, h, w)
        w = dense.weight.data.reshape(7, 7, 128, 1).transpose(3, 2, 0, 1).reshape(1, -1)
        model[6].weight.copy_(t(w))
        model[6].bias.copy_(t(dense.bias.data))
    return model.train()


def check_agreement(torch, mg_model, t_model, x, gy, xt, gyt):
    """Max relative differences of y, conv1's weight gradient and the input gradient."""
    def rel(a, b):
        return float(np.abs(a - b).max() / (np.abs(b).max() + 1e-30))

    mg_model.zero_grad()
    y = mg_model(x)
    gx = mg_model.backward(gy, need_input_grad=True)
    xg = xt.clone().requires_grad_(True)
    t_model.zero_grad(set_to_none=True)
    yt = t_model(xg)
    yt.backward(gyt)
    gw_t = t_model[0].weight.grad.numpy().transpose(2, 3, 1, 0)  # back to (KH,KW,I,O)
    result = {"y": rel(y, yt.detach().numpy()),
              "conv1_weight_grad": rel(mg_model[0].weight.grad, gw_t),
              "input_grad": rel(gx, xg.grad.numpy().transpose(0, 2, 3, 1))}
    mg_model.zero_grad()
    t_model.zero_grad(set_to_none=True)
    return result


# ---------------------------------------------------------------------------- steps

def minigan_steps(model, x, gy):
    def d_step():
        model.zero_grad()
        model(x)
        model.backward(gy, need_input_grad=False)

    def g_step():
        model.freeze()
        model(x)
        model.backward(gy, need_input_grad=True)
        model.unfreeze()

    return d_step, g_step


def torch_steps(model, xt, gyt):
    x_in = xt.clone().requires_grad_(True)  # the G step's image needs a gradient

    def d_step():
        model.zero_grad(set_to_none=True)
        model(xt).backward(gyt)

    def g_step():
        model.requires_grad_(False)
        x_in.grad = None
        model(x_in).backward(gyt)
        model.requires_grad_(True)

    return d_step, g_step


# ---------------------------------------------------------------------------- per layer

def per_layer_times(mg_model, x, gy, t_model, xt, gyt, warmup, steps, frozen, timer, pause):
    """Median forward and backward seconds of every layer, in isolation.

    Each layer is fed the input it sees in the full network and the gradient that
    reaches its output in the full backward. D step (``frozen=False``): weight
    gradients, no input gradient for layer 0. G step (``frozen=True``): input
    gradients only. Each round runs all layers of one framework, then (after
    ``pause`` seconds, see ``common.time_interleaved``) all layers of the other. Returns
    [(name, {"minigan": (fwd, bwd), "torch": (fwd, bwd)})].
    """
    layers = mg_model.layers
    # record each layer's input and the gradient that reaches its output
    xs = [x]
    for layer in layers:
        xs.append(layer.forward(xs[-1]))
    gys = [None] * len(layers)
    g = gy
    for i in range(len(layers) - 1, -1, -1):
        gys[i] = g
        g = layers[i].backward(g, need_input_grad=True)
    if frozen:
        mg_model.freeze()

    t_layers = list(t_model) if t_model is not None else None
    if t_layers is not None:
        import torch
        txs = [xt]
        with torch.no_grad():
            for layer in t_layers:
                txs.append(layer(txs[-1]))
        tys = [None] * len(t_layers)
        g = gyt
        for i in range(len(t_layers) - 1, -1, -1):
            tys[i] = g
            inp = txs[i].clone().requires_grad_(True)
            t_layers[i](inp).backward(g)
            g = inp.grad
        if frozen:
            t_model.requires_grad_(False)

    def mg_layer(i):
        need = frozen or i > 0
        t0 = timer()
        layers[i].forward(xs[i])
        t1 = timer()
        layers[i].backward(gys[i], need_input_grad=need)
        return t1 - t0, timer() - t1

    def torch_layer(i):
        inp = txs[i].detach().requires_grad_(frozen or i > 0)
        for p in t_layers[i].parameters():
            p.grad = None
        t0 = timer()
        out = t_layers[i](inp)
        t1 = timer()
        out.backward(tys[i])
        return t1 - t0, timer() - t1

    frameworks = {"minigan": mg_layer}
    if t_layers is not None:
        frameworks["torch"] = torch_layer
    samples = {(f, i): [] for f in frameworks for i in range(len(layers))}
    for step in range(warmup + steps):
        for f, run in frameworks.items():
            if pause:
                time.sleep(pause)
            for i in range(len(layers)):
                times = run(i)
                if step >= warmup:
                    samples[f, i].append(times)
    if frozen:
        mg_model.unfreeze()
        if t_layers is not None:
            t_model.requires_grad_(True)
    mg_model.zero_grad()

    rows = []
    for i, layer in enumerate(layers):
        entry = {}
        for f in frameworks:
            a = np.asarray(samples[f, i])
            entry[f] = (float(np.median(a[:, 0])), float(np.median(a[:, 1])))
        rows.append((repr(layer), entry))
    return rows


def print_per_layer(title, rows):
    has_torch = "torch" in rows[0][1]
    print(f"\nper layer, {title} (median ms, each layer timed alone):")
    head = f"  {'layer':<58} {'mg fwd':>8} {'mg bwd':>8}"
    if has_torch:
        head += f" {'pt fwd':>8} {'pt bwd':>8} {'mg/pt':>6}"
    print(head)
    totals = {"minigan": [0.0, 0.0], "torch": [0.0, 0.0]}
    for name, entry in rows:
        line = f"  {name[:58]:<58}"
        for f in entry:
            fwd, bwd = entry[f]
            totals[f][0] += fwd
            totals[f][1] += bwd
            line += f" {common.format_ms(fwd)} {common.format_ms(bwd)}"
        if has_torch:
            mg_t, pt_t = sum(entry["minigan"]), sum(entry["torch"])
            line += f" {mg_t / pt_t:5.2f}x" if pt_t > 0 else ""
        print(line)
    line = f"  {'sum':<58}"
    for f in entry:
        line += f" {common.format_ms(totals[f][0])} {common.format_ms(totals[f][1])}"
    if has_torch:
        line += f" {sum(totals['minigan']) / sum(totals['torch']):5.2f}x"
    print(line)


# ---------------------------------------------------------------------------- main

def main(argv=None):
    args = parse_args(argv)
    torch = common.import_torch_with_threads(args.no_torch, args.threads)

    warning = common.blas_env_warning()
    if warning:
        print(warning)
    print("DCGAN discriminator forward + backward, float32, minigan (NumPy, NHWC)"
          + (" vs PyTorch CPU (NCHW)" if torch is not None else ""))
    report = common.machine_report()
    print(common.format_machine_report(report))
    notes = [common.kernel_mismatch_note(report), common.load_warning(report, args.threads)]
    for note in filter(None, notes):
        print(note)

    # Data: a fixed random batch and a random upstream gradient (never all ones).
    mg.backend.seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 28, 28, 1), dtype=np.float32)
    gy = rng.standard_normal((args.batch, 1), dtype=np.float32)
    model = build_minigan()

    rows = common.layer_macs(model, x)
    flops = {"forward": common.step_gflop(rows, backward=False),
             "D step": common.step_gflop(rows, weight_grads=True, first_input_grad=False),
             "G step": common.step_gflop(rows, weight_grads=False, first_input_grad=True)}
    print(f"batch {args.batch}, {args.threads} threads, {args.warmup} warm-up + "
          f"{args.steps} timed steps per variant, frameworks interleaved round-robin "
          f"with {args.pause:g} s pauses, "
          + ("CPU time (--cpu-time)" if args.cpu_time else "wall-clock time"))
    print(f"GEMM work per step (analytical, 2 FLOP/MAC): forward {flops['forward']:.3f} GFLOP, "
          f"D step {flops['D step']:.3f} GFLOP, G step {flops['G step']:.3f} GFLOP")

    fns = {}
    fns["minigan D step"], fns["minigan G step"] = minigan_steps(model, x, gy)
    t_model = xt = gyt = None
    agreement = None
    if torch is not None:
        t_model = build_torch(torch, model)
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        gyt = torch.from_numpy(gy)
        agreement = check_agreement(torch, model, t_model, x, gy, xt, gyt)
        print("agreement (max relative difference minigan vs torch): "
              + ", ".join(f"{k} {v:.1e}" for k, v in agreement.items()))
        fns["torch D step"], fns["torch G step"] = torch_steps(t_model, xt, gyt)

    timer = time.process_time if args.cpu_time else time.perf_counter
    times = common.time_interleaved(fns, warmup=args.warmup, steps=args.steps, timer=timer,
                                    pause=args.pause)
    stats = common.summarise(times)

    print(f"\n  {'variant':<8} {'framework':<9} {'median ms':>10} {'p10':>8} {'p90':>8} "
          f"{'GFLOP/s':>8}")
    ratios = {}
    for variant in ("D step", "G step"):
        for framework in ("minigan", "torch"):
            s = stats.get(f"{framework} {variant}")
            if s is None:
                continue
            s["gflop_per_s"] = flops[variant] / s["median"]
            print(f"  {variant:<8} {framework:<9} {common.format_ms(s['median']):>10} "
                  f"{common.format_ms(s['p10'])} {common.format_ms(s['p90'])} "
                  f"{s['gflop_per_s']:8.1f}")
        if torch is not None:
            ratio = stats[f"minigan {variant}"]["median"] / stats[f"torch {variant}"]["median"]
            ratios[variant] = ratio
            verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
            print(f"  {variant:<8} ratio minigan/torch = {ratio:.2f}x ({verdict} the "
                  f"<= {TARGET_RATIO}x target)")

    per_layer = None
    if args.per_layer:
        per_layer = {}
        for title, frozen in (("D step", False), ("G step through frozen D", True)):
            per_layer[title] = per_layer_times(model, x, gy, t_model, xt, gyt,
                                               args.warmup, args.steps, frozen, timer,
                                               args.pause)
            print_per_layer(title, per_layer[title])

    if args.json:
        result = {"args": vars(args), "machine": report,
                  "warnings": [w for w in [warning] + notes if w],
                  "gflop_per_step": flops,
                  "layer_macs": [{"index": i, "layer": name, "macs": m}
                                 for i, name, _, m in rows],
                  "agreement": agreement, "stats": stats, "ratios": ratios,
                  "times": times, "per_layer": per_layer}
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
