"""The old name of ``minigan.app.evaluate`` (training runs live in ``minigan.app``):
importing ``minigan.gan.evaluate`` gives that module itself, so code written against the
old name keeps working."""

import sys

from ..app import evaluate

sys.modules[__name__] = evaluate
