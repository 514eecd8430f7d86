"""CityOps: an open intelligent operations center (IOC) for a province and its lower levels."""

__version__ = "0.1.0"
