"""The reader's side: transports to mirrors, choosing an index, downloading and verifying bundles.

transport.py (HTTP and folder mirrors, raising TransferError), choose.py (read each
mirror's index, apply trust/rollback.py), fetcher.py (download with resume and
failover, verify, place), report.py (what each mirror did), state.py (the highest
index seen per publisher). Imports bundle/, trust/ and formats/; never publish/ or cli/.
"""
