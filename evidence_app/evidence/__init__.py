"""Signed PDF evidence packs: extracts + manifest, PDF, signature, verification.

Every import of pyHanko lives in this package, so the one filter for its noise is set here, before any of its
modules loads: pyHanko 0.38 (the newest release) imports cryptography's DSA key type, which cryptography 51
deprecates on access — a CryptographyDeprecationWarning about a library's internals on every ``pack`` and
``verify`` (and every pack the web app builds), nothing a user can act on (the product never makes or asks for a
DSA key). It is silenced by its message and pyHanko's modules only, so every other warning still shows.
"""

import warnings

warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko(\.|$)")
