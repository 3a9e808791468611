"""An on/off setting of the engine: set by a call, else by an environment variable.

    keep = Switch("MINIGAN_KEEP_FREED_MEMORY", "parallel.set_keep_freed_memory",
                  on="...", off="...")
    keep.set(False)     # a call decides (returns the previous call's setting)
    keep.set(None)      # back to the environment: "1" on, "0" off, unset on
    keep.enabled()      # True or False; any other value of the variable: ConfigError
"""

import os

from ..errors import ConfigError


class Switch:
    """On by default; ``set(True / False)`` decides in code, ``set(None)`` hands the choice
    back to the environment variable ``variable`` ("1" or "0"). ``setter`` is the public
    name of the call (for messages); ``on`` and ``off`` say what each value does."""

    def __init__(self, variable, setter, on, off):
        self.variable, self.setter, self.on, self.off = variable, setter, on, off
        self.chosen = None     # the last set(); None: the environment decides

    def set(self, enabled):
        """Decide (True / False) or hand back to the environment (None); returns the
        previous setting."""
        if enabled is not None and not isinstance(enabled, bool):
            raise ConfigError(f"{self.setter}: enabled must be True, False or None, "
                              f"got {enabled!r}")
        previous, self.chosen = self.chosen, enabled
        return previous

    def enabled(self):
        """The call's setting, else the environment's ("1" / unset: True, "0": False)."""
        if self.chosen is not None:
            return self.chosen
        value = os.environ.get(self.variable, "1").strip()
        if value not in ("0", "1"):
            raise ConfigError(f"{self.variable} must be 1 ({self.on}) or 0 ({self.off}), "
                              f"got {value!r}")
        return value == "1"
