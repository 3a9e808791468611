"""The old name of ``minigan.app.run`` (training runs live in ``minigan.app``):
importing ``minigan.gan.run`` gives that module itself, so code written against the
old name keeps working."""

import sys

from ..app import run

sys.modules[__name__] = run
