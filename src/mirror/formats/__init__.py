"""The file formats as values, with no I/O: exact bytes in, strict parsing, exact bytes out.

Member names (names.py), minisign keys and signatures (minisign.py), SHA256SUMS and
bundle.json (manifest.py), the mirror index (index.py) and where files live on a host
(layout.py), media types (media.py), strict JSON (jsonstrict.py) and the time format
(timefmt.py). Imports only errors.py and itself; everything else in mirror may import it.
"""
