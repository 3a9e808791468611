"""The old name of ``minigan.app.run_dir`` (training runs live in ``minigan.app``):
importing ``minigan.gan.run_dir`` gives that module itself, so code written against the
old name keeps working."""

import sys

from ..app import run_dir

sys.modules[__name__] = run_dir
