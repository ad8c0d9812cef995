"""Serving bundles to others: the room server behind `mirror serve`.

headers.py (the security headers of every response, for any page this tool serves),
catalog.py (what a folder offers: verified bundles in the mirror layout, the signed
index as it is, or an unsigned listing), page.py and words.py (the page at `/`),
ranges.py (HTTP Range and If-Range), http.py (the server: aiohttp, bounded concurrency,
deadlines for slow clients), limits.py (its numbers), announce.py (DNS-SD over mDNS
with zeroconf), room.py (all of it together). Imports bundle/, trust/ and formats/;
never fetch/, publish/ or cli/.
"""
