"""Iris classifier whose life cycle is tracked and orchestrated by ClearML."""
