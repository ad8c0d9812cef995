"""`mirror open`: verify a bundle, unpack it into a private folder, and give the page to open.

Example::

    view = open_view(Path("almaty.7z"), keyring, cache_folder() / "open")
    webbrowser.open(view.page.as_uri())      # cli/bundles.py does this

The bundle is verified exactly as by `extract` (nothing is written when it must not be trusted), then
unpacked into a new folder only the user can read. The page shown is the bundle's own signed
index.html, except in these cases, where a page is written beside it in the private copy
(mirror-view-XXXX.html, a new file, never one of the bundle's) and opened instead:
- an intact bundle whose signer is not in the keyring is opened only when asked (`--untrusted`); its own page
  is then not shown (its HTML could hide a warning or load from anywhere): a page made here from the verified
  files carries a red banner that names the problem and the key (the bundle itself is unchanged);
- a bundle of format 1 has no page: one is made here from its verified accounts and photos, and says so.
- a bundle trusted only because endorsers in the keyring vouch for its author (`--require-endorsers`): its own
  page is the work of a key the reader does not hold, so it is not shown either; the page made here has a note
  that says so and names them.
"""

from __future__ import annotations

import contextlib
import html
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

from mirror.bundle.destination import remove_tree
from mirror.bundle.extract import Extracted, extract_bundle
from mirror.bundle.page import (
    BANNER_SLOT,
    MAX_FIGURES,
    MAX_LISTED,
    MAX_MARKDOWN_HERE,
    MAX_PAGE_TEXT,
    MAX_RENDERED,
    UI_LANGUAGES,
    PageAccount,
    PageInfo,
    page_pieces,
    strip_front_matter,
)
from mirror.bundle.pagecheck import MAX_CHECKED, page_problem
from mirror.bundle.parts import open_part_refusal
from mirror.bundle.verify import Keys, VerifiedBundle
from mirror.errors import ConfigError, ContentError
from mirror.formats.manifest import PAGE_NAME, SUMS_NAME, SumsTable, file_details
from mirror.held_back import interrupts_held
from mirror.record import record, replace
from mirror.safeio import read_at_most
from mirror.trust.policy import Policy

RENDER_SECONDS = 5.0  # Markdown rendered here from a stranger's accounts; the rest is shown as plain text
# Read of each account even once the page's text is read (4 * MAX_PAGE_TEXT in all): what a page made here renders
# of one (MAX_MARKDOWN_HERE characters, up to 4 bytes each) and its front matter. Accounts past that showed no text.
_EACH_AT_LEAST = 4 * MAX_MARKDOWN_HERE + (64 << 10)
BANNER = {
    "en": "Warning: nobody in your keyring signed this bundle. It is intact, but it was signed by key {key}, "
          "fingerprint {fingerprint}. Compare the fingerprint with the author, by phone or in person, before you "
          "believe or pass on what it says.",
    "ru": "Внимание: этот набор не подписан никем из вашего списка ключей. Он не повреждён, но подписан ключом "
          "{key}, отпечаток {fingerprint}. Прежде чем верить ему или передавать дальше, сверьте отпечаток с "
          "автором по телефону или при встрече.",
    "kk": "Назар аударыңыз: бұл жиынтыққа сіздің кілттер тізіміңіздегі ешкім қол қоймаған. Ол бүтін, бірақ "
          "{key} кілтімен қол қойылған, саусақ ізі {fingerprint}. Оған сенбес немесе әрі қарай таратпас бұрын "
          "саусақ ізін автормен телефон арқылы не кездескенде салыстырыңыз.",
}
MADE_HERE = {
    "en": "This bundle was made before bundles carried their own page; this page was made on your computer from "
          "its verified files.",
    "ru": "Этот набор сделан до того, как наборы стали нести свою страницу; эта страница сделана на вашем "
          "компьютере из его проверенных файлов.",
    "kk": "Бұл жиынтық өз беті болмай тұрғанда жасалған; бұл бет оның тексерілген файлдарынан сіздің "
          "компьютеріңізде жасалды.",
}
NOT_SHOWN = {
    "en": "The bundle's own page is not shown, because nobody you trust signed it: this page was made on your "
          "computer from its verified files.",
    "ru": "Собственная страница набора не показана, потому что его не подписал никто, кому вы доверяете: эта "
          "страница сделана на вашем компьютере из его проверенных файлов.",
    "kk": "Жиынтықтың өз беті көрсетілмейді, өйткені оған сіз сенетін ешкім қол қоймаған: бұл бет оның "
          "тексерілген файлдарынан сіздің компьютеріңізде жасалды.",
}
NOT_STATIC = {
    "en": "The bundle's own page is not shown, because it is not a page of the kind mirror makes: it could run code "
          "or load from elsewhere. This page was made on your computer from its verified files.",
    "ru": "Собственная страница набора не показана, потому что mirror таких страниц не делает: она могла бы "
          "выполнять код или загружать что-то из сети. Эта страница сделана на вашем компьютере из его проверенных "
          "файлов.",
    "kk": "Жиынтықтың өз беті көрсетілмейді, өйткені mirror мұндай бет жасамайды: ол код орындауы немесе басқа "
          "жерден бірдеңе жүктеуі мүмкін. Бұл бет оның тексерілген файлдарынан сіздің компьютеріңізде жасалды.",
}
ENDORSED = {
    "en": "The author's key {key} is not in your keyring. You trust this bundle because people in your keyring "
          "endorse it as knowing the author: {names}.",
    "ru": "Ключа автора {key} нет в вашем списке ключей. Вы доверяете этому набору, потому что люди из вашего "
          "списка подтверждают, что знают автора: {names}.",
    "kk": "Автордың {key} кілті сіздің кілттер тізіміңізде жоқ. Сіз бұл жиынтыққа сенесіз, өйткені тізіміңіздегі "
          "адамдар авторды танитынын растайды: {names}.",
}
_HOLDER = "view-"  # each opened copy's private folder in the folder of opened bundles
_STILL_NEW = 60.0  # seconds: a copy this young may be the one another `mirror open` of the bundle just made
_OPENED = ".mirror-opened"  # in that folder, beside the copy: its signed list's SHA-256 and signer, to find it again
VIEW_PREFIX = "mirror-view-"  # the page written beside the bundle's files in the private copy, under a new name
_BANNER_STYLE = "background:#b00020;color:#fff;padding:.8rem 1rem;margin:0 0 1rem;font-weight:600"
_NOTE_STYLE = "background:#fff3cd;color:#222;padding:.6rem 1rem;margin:0 0 1rem"


@record
class View:
    """A verified bundle unpacked for reading: where, which page, and whether the page was made here."""

    extracted: Extracted
    page: Path
    made_here: bool
    replaced: int = 0  # earlier copies of the same bundle removed from the folder of opened bundles
    page_problem: str | None = None  # why the bundle's own page, signed by a trusted key, is not shown


def _words(table: dict[str, str], **values: str) -> str:
    """One sentence in the three languages of the page, shown by the same CSS switch as its other words."""
    escaped = {k: html.escape(v) for k, v in values.items()}
    return "".join(f'<span class="t-{lang}" lang="{lang}">{html.escape(table[lang]).format(**escaped)}</span>'
                   for lang in UI_LANGUAGES)


class _First:
    """The `limit` smallest paths of those offered, each with what goes with it, and how many were left out: the
    entries of a bundle.json of a million files are never all held. At most twice `limit` are held; then they are
    sorted and cut to `limit`, and what sorts after the last one kept is passed over at once."""

    def __init__(self, limit: int) -> None:
        self.limit, self.offered = limit, 0
        self.items: list[tuple[str, dict[str, Any]]] = []
        self.last: str | None = None  # once cut: the largest path kept

    def offer(self, path: str, extra: dict[str, Any]) -> None:
        self.offered += 1
        if self.last is not None and path > self.last:
            return
        self.items.append((path, extra))
        if len(self.items) >= 2 * self.limit:
            self._cut()

    def _cut(self) -> None:
        self.items.sort(key=itemgetter(0))  # a path is listed once (verify refused one given twice)
        del self.items[self.limit:]
        if len(self.items) == self.limit:
            self.last = self.items[-1][0]

    def kept(self) -> list[tuple[str, dict[str, Any]]]:
        """The paths kept, in order, each with its extra fields."""
        self._cut()
        return self.items

    @property
    def beyond(self) -> int:
        """How many were offered and not kept (once `kept` was asked)."""
        return self.offered - len(self.items)


def _made_page(folder: Path, verified: VerifiedBundle) -> Iterator[bytes]:
    """A page made here from the extracted, verified files (a format 1 bundle, or an unknown signer's), in pieces,
    for a file beside `folder` (links lead into it).

    Each account is read only when the page reaches it, and no more than 4 * MAX_PAGE_TEXT bytes of them in all
    (what the page can show of them): they were all read first, up to that much each, and 24 accounts of 32 MB in a
    bundle of 118 KB took 868 MB. Of bundle.json, only the entries the page shows are kept: every entry was held, and
    sorted, whatever the count (60,000 photos took 25 MB to show 10,000 of them; a million, hundreds of MB)."""
    shown_texts, shown_photos = _First(MAX_RENDERED + MAX_LISTED), _First(MAX_FIGURES)
    listed = verified.sums.entries if isinstance(verified.sums.entries, SumsTable) else None
    with verified.control.open("bundle.json") as source:
        for path, described in file_details(source, listed):  # listed: no set of every path kept
            if path == PAGE_NAME:
                continue  # the signer's own page: not shown, not even as text
            if described.type.startswith("image/"):
                shown_photos.offer(path, {})
            elif described.type.startswith("text/"):
                shown_texts.offer(path, described.extra)
    photos = [path for path, _ in shown_photos.kept()]
    texts = shown_texts.kept()
    more_accounts, more_photos = shown_texts.beyond, shown_photos.beyond

    def accounts() -> Iterator[PageAccount]:
        left = 4 * MAX_PAGE_TEXT
        for n, (path, extra) in enumerate(texts):
            text = ""
            if n < MAX_RENDERED:  # no more than the page can show of it, whatever its size: once the page's text
                with (folder / path).open("rb") as account:  # is read, what Markdown renders here of each one
                    raw = read_at_most(account, max(left, _EACH_AT_LEAST))
                left -= len(raw)
                text = strip_front_matter(raw.decode("utf-8", "replace"))
            yield PageAccount(path, str(extra.get("language", "")), dict(extra), text)

    meta = verified.meta
    info = PageInfo(meta.title, meta.created, meta.languages, verified.key_id, verified.fingerprint, made_here=True)
    return page_pieces(info, accounts(), photos, more_accounts, more_photos, time.monotonic() + RENDER_SECONDS,
                       folder=folder.name)


def _private(into: Path) -> None:
    """Make `into`, the folder of opened bundles, or check that it is this user's alone: the plaintext of every
    bundle opened goes there. A folder another user owns or can write to (a cache on a shared /tmp, made
    beforehand), or one on a path others can change, could have a copy renamed into their hands, or a marker
    file that blocks.

    Raises:
        ConfigError: it is a link, not this user's, or others can change a folder on its path.
    """
    missing = [folder for folder in (into, *into.parents) if not (folder.exists() or folder.is_symlink())]
    for folder in reversed(missing):  # each made 0700 (mkdir's parents=True gives those above the umask's mode)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    _mine(into)


def _mine(into: Path) -> None:
    """Check that `into`, which exists, is a folder of this user's alone, on a path others cannot change.

    Raises:
        ConfigError: it is a link, not this user's, or others can change a folder on its path.
    """
    hint = "set XDG_CACHE_HOME to a folder only you can write to, or remove that folder"
    mine = os.geteuid()
    found = os.lstat(into)
    if stat.S_ISLNK(found.st_mode) or not stat.S_ISDIR(found.st_mode) or found.st_uid != mine:
        raise ConfigError(f"{into}, where open unpacks bundles, is not a folder of yours", hint=hint)
    if stat.S_IMODE(found.st_mode) & 0o077:
        os.chmod(into, 0o700, follow_symlinks=False)
    for above in into.resolve().parents:  # group-writable is allowed, as for a workspace: a group of one's own
        held = os.stat(above)
        if held.st_uid not in (0, mine) or (held.st_mode & stat.S_IWOTH and not held.st_mode & stat.S_ISVTX):
            raise ConfigError(f"{into}, where open unpacks bundles, is inside {above}, which others can change",
                              hint=hint)


def open_view(bundle: Path, keys: Keys, into: Path, allow_untrusted: bool = False,
              policy: Policy | None = None) -> View:
    """Verify `bundle` and unpack it into a new private folder under `into`; return the page to open.

    Raises:
        VerificationError: the bundle must not be trusted; nothing is written.
        UntrustedSigner: intact, but the signer is not in the keyring, and `allow_untrusted` is False.
        ConfigError: `bundle` is a FIFO, device or socket.
        OSError: the folder cannot be written.
    """
    _private(into)
    made: list[Path] = []
    try:
        with interrupts_held():  # Ctrl-C between making the folder and recording it left an empty view-* behind
            made.append(Path(tempfile.mkdtemp(prefix=_HOLDER, dir=into)))  # mode 0700: only this user reads it
        holder = made[0]
        extracted = extract_bundle(bundle, None, keys, allow_untrusted=allow_untrusted, policy=policy, parent=holder)
    except ContentError:
        remove_tree(made[0])
        refusal = open_part_refusal(bundle)
        if refusal is None:
            raise
        raise refusal from None
    except BaseException:
        for folder in made:
            remove_tree(folder)
        raise
    try:
        view = _view(extracted)
        # the signed list (the same files, byte for byte) and who signed it
        identity = f"{extracted.verified.control.sha256(SUMS_NAME)} {extracted.verified.key_id}"
        (holder / _OPENED).write_text(identity + "\n", encoding="ascii")
    except BaseException:
        remove_tree(holder)
        raise
    return replace(view, replaced=_remove_earlier(into, holder, identity))


def forget_opened(into: Path) -> int:
    """Remove every copy `mirror open` left in `into` (the folder of opened bundles), however recent; how many.
    Only the folders it made (view-XXXX) are touched, never followed through a link, and only in a folder `open`
    would unpack into: one a link leads to (made beforehand in a shared cache) is another's, or anywhere.

    Raises:
        ConfigError: `into` is a link, not this user's, or on a path others can change.
    """
    if not (into.exists() or into.is_symlink()):
        return 0
    _mine(into)
    removed = 0
    with os.scandir(into) as entries:
        made = [Path(e.path) for e in entries if e.name.startswith(_HOLDER) and e.is_dir(follow_symlinks=False)]
    for folder in made:
        remove_tree(folder)
        removed += not folder.exists()
    return removed


def _remove_earlier(into: Path, holder: Path, identity: str) -> int:
    """Remove the earlier copies of the same bundle, signed by the same key, in `into` (opening it again must not
    pile up copies of a gigabyte); copies of other bundles, folders that do not say what they hold, and copies made
    in the last minute (another `mirror open` of it may be showing one right now) stay."""
    removed = 0
    recent = (holder / _OPENED).stat().st_mtime - _STILL_NEW
    with os.scandir(into) as entries:
        earlier = [Path(e.path) for e in entries
                   if e.name.startswith(_HOLDER) and e.path != str(holder) and e.is_dir(follow_symlinks=False)]
    for folder in earlier:
        try:
            fd = os.open(folder / _OPENED, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as marker:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode):
                continue  # a FIFO there would block every later open
            said = marker.read(len(identity) + 2)  # the longer of the two forms
            made = found.st_mtime
        said_text = said.decode("ascii", "replace").strip()
        same = said_text == identity or said_text == identity.split(" ")[0]  # a copy made before the key was kept
        if same and made < recent:
            remove_tree(folder)
            removed += not folder.exists()
    return removed


def _read_capped(page: Path) -> bytes:
    """The page's bytes, no more than page_problem checks (a larger page fails that check)."""
    with page.open("rb") as handle:
        return read_at_most(handle, MAX_CHECKED + 1)


def _view(extracted: Extracted) -> View:
    """The page to open in the unpacked bundle: its own signed page, or one made here with what the reader must
    know. An unknown signer's own page is never shown: its HTML could hide the warning, load a tracking image
    from anywhere, or run scripts; the page made here has none of that (bundle/page.py: no raw HTML, links and
    images as text)."""
    verified = extracted.verified
    page = extracted.dest / PAGE_NAME
    # Only a page whose author's key the reader holds: one trusted through endorsers is still the work of a key
    # the reader does not hold, and could hide the note saying who vouched (a slot inside a hidden element) or
    # show another key's fingerprint; the page made here says who vouched where it is seen.
    own = _read_capped(page) if verified.layout.has_page and verified.signer_name is not None else None
    problem = None if own is None else page_problem(own)  # signed by a trusted key, yet not static: not shown
    if own is not None and problem is None:
        return View(extracted, page, False)
    notes = ""
    if not verified.trusted:
        notes += f'<div role="alert" style="{_BANNER_STYLE}">' + _words(
            BANNER, key=verified.key_id, fingerprint=verified.fingerprint) + "</div>"
    elif verified.signer_name is None:  # trusted by the reader's policy: endorsers they know vouch for the author
        names = ", ".join(r.name for r in verified.verdict.vouchers)
        notes += f'<div style="{_NOTE_STYLE}">' + _words(ENDORSED, key=verified.key_id, names=names) + "</div>"
    if not verified.layout.has_page:
        notes += f'<div style="{_NOTE_STYLE}">' + _words(MADE_HERE) + "</div>"
    elif problem is not None:
        notes += f'<div style="{_NOTE_STYLE}">' + _words(NOT_STATIC) + "</div>"
    else:
        notes += f'<div style="{_NOTE_STYLE}">' + _words(NOT_SHOWN) + "</div>"
    # Beside the unpacked folder, not in it: that folder holds the bundle's files only, and `mirror verify` of it
    # said FAILED for this one. A new name, never one of the bundle's; the signed index.html stays as it is.
    fd, name = tempfile.mkstemp(prefix=VIEW_PREFIX, suffix=".html", dir=extracted.dest.parent)
    slot, placed = BANNER_SLOT.encode(), False
    with os.fdopen(fd, "wb") as out:
        for piece in _made_page(extracted.dest, verified):
            if not placed and slot in piece:
                piece, placed = piece.replace(slot, slot + notes.encode("utf-8"), 1), True
            out.write(piece)
    return View(extracted, Path(name), True, page_problem=problem)
