"""pollnet: get every polling station of an electoral district onto a secure network.

The package is organised by the four stages of the work: ``registry`` (site the stations),
``streets`` and ``plan`` (plan the fiber), ``rollout`` (build it) and ``link`` (operate it on
election day). ``store`` holds the database, ``i18n`` the Persian/English layer.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
