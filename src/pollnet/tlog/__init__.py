"""The check-in transparency log: RFC 9162 Merkle tree, C2SP signed notes, checkpoints, tiles,
witnesses and proofs that observers verify without trusting the election office."""
