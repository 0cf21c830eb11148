"""Micro-GEAR policy assistant: cited answers from micro-credential policy documents.

Data flows one way: corpus → index → retrieve → answer → UI / CLI / eval.
Importing the package applies the offline settings (no telemetry, no hub look-ups).
"""

from assistant import offline as _offline

_offline.apply()

__version__ = "0.1.0"
