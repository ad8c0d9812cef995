"""What could identify a source: photo cleaners, the scanner, identifiers in text, names, the author's salts.

exif.py (a bounded TIFF/EXIF reader), cursor.py (bytes read forward in bounded memory),
jpeg.py and png.py (lossless walkers and strippers), strip.py (chooses a cleaner by
content), heic.py (HEIC metadata and conversion, the only user of Pillow and
pillow-heif), clean.py (what create stores); scan.py, scan_tiff.py, makernotes.py and
scan_blocks.py (every metadata block by name), texts.py (encodings, lines in blocks),
identifiers.py (phone numbers, e-mail addresses, IINs), names.py (capture times and
devices in names, neutral names), scan_paths.py (folders, bundles, single files),
findings.py (what a scan reports), originals.py (salts for --commit-originals).
Imports formats/ and sevenzip/ only.
"""
