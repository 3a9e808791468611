"""The old name of ``minigan.checks`` (the input checks serve more than the layers):
importing ``minigan.nn.checks`` gives that module itself."""

import sys

from .. import checks

sys.modules[__name__] = checks
