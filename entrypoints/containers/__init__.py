"""The slices the composition root (``entrypoints/container.py``) is made of: each a
sub-container that receives what it shares with the others (settings, clock, ids, units of
work) and builds its own use cases."""
