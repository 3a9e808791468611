"""The old name of ``minigan.app.resume`` (training runs live in ``minigan.app``):
importing ``minigan.gan.resume`` gives that module itself, so code written against the
old name keeps working."""

import sys

from ..app import resume

sys.modules[__name__] = resume
