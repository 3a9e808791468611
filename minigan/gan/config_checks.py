"""The old name of ``minigan.app.config_checks`` (training runs live in ``minigan.app``):
importing ``minigan.gan.config_checks`` gives that module itself, so code written against the
old name keeps working."""

import sys

from ..app import config_checks

sys.modules[__name__] = config_checks
