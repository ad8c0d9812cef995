"""What could identify a source: photo cleaners, the scanner, the author's private salts.

exif.py (a bounded TIFF/EXIF reader), jpeg.py and png.py (lossless strippers),
strip.py (chooses a cleaner by content), clean.py (what create stores), scan.py and
scan_paths.py (find identifying data in texts and photos, in folders or bundles),
originals.py (salts for --commit-originals). Imports formats/ and sevenzip/ only.
"""
