"""Sector modules: one package per sector, each exposing MANIFEST (see core/modules.py)."""
