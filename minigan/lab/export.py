"""The GAN lab without a server: a run trained here and written as one self-contained
HTML page (the pictures embedded, a scrubber to replay them) and, on request, as an
animated GIF for slides.

    export_run({"data": "ring"}, "lab.html", steps=2000, pictures=60, gif="lab.gif")

The page is the live lab's own page (``static/``) with its style and scripts inlined and
the pictures in ``window.LAB_EXPORT``; its Content-Security-Policy forbids loading
anything (no network, no other file): a course page can host it as it is.
"""

import json
import os

import numpy

from ..atomic import atomic_write
from ..errors import InputError
from .server import static_file
from .session import LabSession

POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
          "img-src data:")


def check_output(option, path, suffix):
    """Refuse, before any training, an output whose directory is missing or whose name
    does not end in ``suffix`` (InputError naming the option)."""
    if not str(path).lower().endswith(suffix):
        raise InputError(f"lab: {option} {path}: expected a file name ending in {suffix}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(f"lab: {option} {path}: the directory {directory} does not exist")
    if os.path.isdir(path):
        raise InputError(f"lab: {option} {path}: is a directory, expected a file name")
    if not os.access(directory, os.W_OK):
        raise InputError(f"lab: {option} {path}: the directory {directory} is not writable")


def record_run(settings, steps, pictures):
    """Train ``steps`` steps with the lab's session and return the export's data: the
    pictures (the start and ``pictures`` evenly spaced ones), the curves, the settings."""
    session = LabSession(settings, history=pictures + 1)
    frames = [session.latest] + session.run_steps(steps, pictures)
    state = session.state()
    s = state["settings"]
    remedies = [k for k in ("label_smoothing", "instance_noise", "minibatch_stddev",
                            "packing", "spectral_norm", "r1") if s[k]]
    title = (f"{s['data']}, {s['loss']} loss, lr D {s['lr_d']:g} / G {s['lr_g']:g}, "
             f"k {s['k']}, {s['optimizer']}, latent dim {s['latent_dim']}, "
             f"{session.trainer.step_count} steps"
             + (f", remedies: {', '.join(remedies)}" if remedies else "")
             + (f"; {state['message']}" if state["message"] else ""))
    return {"frames": frames, "curves": state["curves"], "metric_curve": state["metric_curve"],
            "settings": s, "title": title}


def page(data):
    """The self-contained HTML of an export (a str)."""
    html = static_file("index.html").decode("utf-8")
    css = static_file("lab.css").decode("utf-8")
    scripts = "\n".join(static_file(name).decode("utf-8") for name in ("draw.js", "app.js"))
    payload = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    html = html.replace('<link rel="stylesheet" href="/static/lab.css">',
                        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
                        f"<style>\n{css}</style>")
    html = html.replace('<script src="/static/draw.js"></script>\n'
                        '<script src="/static/app.js"></script>',
                        f"<script>window.LAB_EXPORT = {payload};</script>\n"
                        f"<script>\n{scripts.replace('</', '<' + chr(92) + '/')}</script>")
    if "/static/" in html:
        raise AssertionError("the export still refers to the server's files")
    return html


def write_page(data, path):
    with atomic_write(path, "w") as f:
        f.write(page(data))


def write_gif(data, path, fps=10):
    """An animated GIF of the pictures: D's heat map, reals, fakes, arrows, manifold."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import animation, colors, pyplot

    cmap = colors.LinearSegmentedColormap.from_list(
        "lab", ["#9f74b3", "#ffffff", "#5fbfa0"])   # fake purple - 0.5 white - real green
    figure, axes = pyplot.subplots(figsize=(4.2, 4.2), dpi=90)
    figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.92)

    def draw(i):
        f = data["frames"][i]
        axes.clear()
        x0, x1, y0, y1 = f["extent"]
        surface = numpy.array([numpy.nan if v is None else v for v in f["surface"]],
                              dtype=float).reshape(f["res"], f["res"])
        if f["surface_kind"] == "score":
            m = max(float(numpy.nanmax(numpy.abs(surface))), 1e-9)
            surface = 0.5 + surface / (2 * m)
        axes.imshow(surface, extent=(x0, x1, y0, y1), cmap=cmap, vmin=0, vmax=1,
                    interpolation="bilinear")
        for line in f["manifold"]:
            pts = numpy.array([[numpy.nan if v is None else v for v in p] for p in line])
            axes.plot(pts[:, 0], pts[:, 1], color="#7b3294", alpha=0.35, lw=0.7)
        real = numpy.array(f["real"], dtype=float)
        fake = numpy.array(f["fake"], dtype=float)
        arrows = numpy.array(f["arrows"], dtype=float)
        axes.scatter(real[:, 0], real[:, 1], s=3, color="#1b9e77")
        axes.scatter(fake[:, 0], fake[:, 1], s=3, color="#7b3294")
        lengths = numpy.hypot(arrows[:, 0], arrows[:, 1])
        ref = numpy.nanpercentile(lengths, 90) if numpy.isfinite(lengths).any() else 0
        if ref > 0:
            scale = 0.06 * (x1 - x0) / ref
            axes.quiver(fake[:, 0], fake[:, 1], scale * arrows[:, 0], scale * arrows[:, 1],
                        angles="xy", scale_units="xy", scale=1, width=0.003, color="#3c1450",
                        alpha=0.7)
        axes.set_xlim(x0, x1)
        axes.set_ylim(y0, y1)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(f"{f['data']['name']}, {f['loss']}: step {f['step']}", fontsize=9)

    movie = animation.FuncAnimation(figure, draw, frames=len(data["frames"]))
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, "." + os.path.basename(path) + ".part.gif")
    try:
        movie.save(temporary, writer=animation.PillowWriter(fps=fps))
        os.replace(temporary, path)
    finally:
        pyplot.close(figure)
        if os.path.exists(temporary):
            os.unlink(temporary)


def export_run(settings, path=None, steps=2000, pictures=60, gif=None):
    """Train and write the page (``path``) and/or the GIF (``gif``); returns the data."""
    data = record_run(settings, steps, pictures)
    if path is not None:
        write_page(data, path)
    if gif is not None:
        write_gif(data, gif)
    return data
