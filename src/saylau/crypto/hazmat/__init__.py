"""saylau.crypto.hazmat — the low tier: points, scalars, hashing, ElGamal and bare proofs.

Only the safe tier (``saylau.crypto``), the election record and the verifier use these directly:
``group`` (secp256k1 wrapper with an explicit identity), ``fixedbase`` (verification-only tables),
``hashing`` (domain-separated SHA-256), ``elgamal``, ``proofs`` and ``dlog``. Import the modules by name.
"""

__all__: list[str] = []
