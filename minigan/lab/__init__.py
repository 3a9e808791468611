"""The GAN lab: the GAN game on the plane, trained by minigan's own layers and drawn live
in a browser (after GAN Lab, Kahng et al., IEEE VIS 2018).

``minigan lab`` starts the page on 127.0.0.1; ``minigan lab --export lab.html`` writes a
page that replays a run without a server. The files: ``datasets.py`` (the 2-D data sets
and their densities), ``networks.py`` (the small MLPs), ``settings.py`` (the controls'
values and checks), ``frame.py`` (what a picture holds), ``session.py`` (the trainer, its
thread and its pictures), ``watch.py`` (the hooks on G, the layer norms, the curves),
``server.py`` (the HTTP server), ``export.py`` (the self-contained page and the GIF),
``static/`` (the page: plain JavaScript, canvas, CSS).
"""

from .session import LabSession

__all__ = ["LabSession"]
