"""kopf handlers: thin, they parse, call reconcile logic and patch status.

Importing this package registers every handler (kopf run -m patternpolicy.handlers).
"""

from patternpolicy.handlers import patterns, proposals, settings

__all__ = ["patterns", "proposals", "settings"]
