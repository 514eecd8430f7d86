"""The platform core: what every module leans on. Nothing here imports a module."""
