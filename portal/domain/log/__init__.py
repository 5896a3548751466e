"""The public process log: the hash chain, sealed-score commitments, the signing key, appending and verifying."""
