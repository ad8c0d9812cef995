"""The publisher's side: mirror.toml's hosts, planning and signing an index, sending, host health.

config.py ([publisher] and [hosts]), plan.py (verify bundles, next version, sign),
send.py (every host in parallel, retries), health.py (`mirror status`), state.py (the
last index signed), hosts/ (one driver per kind: folder, WebDAV, SFTP, S3, all raising
TransferError). Imports bundle/, trust/ and formats/; never fetch/ or cli/.
"""
