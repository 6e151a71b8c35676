"""kopf handlers: thin, they parse, call reconcile logic and patch status.

Importing this package registers every handler (kopf run -m patternpolicy.handlers).
"""

from patternpolicy.handlers import impact, lifecycle, observe, patterns, proposals, settings

__all__ = ["impact", "lifecycle", "observe", "patterns", "proposals", "settings"]
