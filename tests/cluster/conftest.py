"""The cluster tests use the session's local cluster (``cluster`` in ``tests/conftest.py``)."""
