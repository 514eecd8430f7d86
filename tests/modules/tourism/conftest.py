"""Fixtures for tourism tests: the shared sector world (tests/modules/sector_world.py)."""

from sector_world import World, world

__all__ = ["World", "world"]
