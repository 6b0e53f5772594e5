"""The election-day link: device certificates and mutual TLS, the check-in service and its
ledger that refuses a second vote, devices' offline queue and replay, heartbeats, the audit chain.
"""
