"""7z containers: a strict, read-only reader for untrusted archives, and the writer for new bundles.

Example::

    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
        files = regular_files(archive)               # names, types, duplicates checked
        for member, chunks in iter_members(fp, archive):
            ...

Reading and writing are apart on purpose: the writer (writer.py, with headerwriter.py) only
ever writes a file this process just created; received archives go through reader.py alone.
"""

from mirror.sevenzip.ahead import Checkpoint, read_ahead
from mirror.sevenzip.members import Files, NameList, regular_files
from mirror.sevenzip.model import Archive, Coder, Folder, FolderTable, Limits, Member, MemberTable
from mirror.sevenzip.reader import check_methods, iter_block, iter_members, read_archive

__all__ = ["Archive", "Checkpoint", "Coder", "Files", "Folder", "FolderTable", "Limits", "Member", "MemberTable",
           "NameList", "check_methods", "iter_block", "iter_members", "read_ahead", "read_archive", "regular_files"]
