"""A bundle's life: collect sources, create, verify, extract.

sources.py and accounts.py (what an author's folder holds), create.py (clean, hash,
sign, write, self-check), verify.py (the ordered checks of docs/format.md),
extract.py (verify, then write through a temporary folder). Imports trust/, privacy/,
sevenzip/ and formats/; never publish/, fetch/ or cli/.
"""
