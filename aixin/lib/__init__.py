"""Framework-free code: nothing here imports Django models."""
