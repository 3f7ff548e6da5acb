"""Tests of the local ClearML-compatible server."""
