"""Signals the registry sends to the apps that keep records about a child."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by retention.children_minimise inside its transaction, once per run that minimised
# children, with `child_ids` (list[int]) and `now`: each app empties what it keeps about them
# beyond the program's statistics (a receiver that raises rolls the whole run back).
children_minimised = Signal()
