"""Who is trusted, decided on values: keys and signatures, the keyring, policies, rollback rules.

keys.py (Ed25519 with `cryptography`, minisign signatures), keyring.py (the keys folder)
and keyset.py (a snapshot of it as values), policy.py (who must have signed: composable
policies), rollback.py (the reader's index rules as pure functions), index.py (signing
and checking the mirror index), fingerprint.py (digits and QR codes for people).
Imports formats/ and the storage helpers below it; never a transport, a host or an archive.
"""
