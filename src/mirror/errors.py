"""Exception hierarchy and exit codes for mirror.

Example::

    try:
        verify_bundle(path, keyring)
    except VerificationError as exc:
        print(exc, exc.hint)

This module imports nothing else from mirror.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ExitCode(IntEnum):
    """Process exit codes; the table in README.md documents them."""

    OK = 0
    ERROR = 1  # I/O, network, host failure; also an uncaught bug
    USAGE = 2  # bad arguments, config, key file or passphrase
    INVALID = 3  # the bundle must not be trusted
    INCOMPLETE = 4  # some host or bundle failed
    UNTRUSTED = 5  # intact, but the signer is not in the keyring
    FOUND = 6  # `mirror scan` or `mirror create` found something that could identify a source
    NOT_SCANNED = 7  # `mirror scan` could not judge some files: incomplete, never clean


class MirrorError(Exception):
    """Base of every error mirror reports to a user.

    Args:
        message: one line saying what is wrong and where.
        hint: optional one line saying how to fix it.
    """

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(MirrorError):
    """Bad configuration, arguments, key file, or passphrase."""

    exit_code = ExitCode.USAGE


class InputError(ConfigError):
    """Source material that `mirror create` refuses (unknown files, unsafe names)."""


class PhotoError(InputError):
    """A photo that cannot be read or cleaned safely.

    Args:
        name: the photo's path as the user knows it.
        reason: what is wrong with it.
    """

    def __init__(self, name: str, reason: str, hint: str | None = None) -> None:
        super().__init__(f"{name}: {reason}", hint)
        self.name = name
        self.reason = reason


class Incomplete(MirrorError):
    """What was given lacks some of what was asked for (the parts of a bundle): exit 4, as for a fetch."""

    exit_code = ExitCode.INCOMPLETE


class IdentifiersFound(MirrorError):
    """What `mirror create` was about to sign holds personal identifiers (phone numbers, e-mail addresses...)."""

    exit_code = ExitCode.FOUND


class KeyringError(ConfigError):
    """A key is missing, malformed, or cannot be unlocked."""


class WrongPassphrase(KeyringError):
    """The passphrase does not open the secret key."""


class VerificationError(MirrorError):
    """The bundle must not be trusted."""

    exit_code = ExitCode.INVALID


class ArchiveError(VerificationError):
    """Unreadable or unsafe 7z container: names, limits, methods, truncation."""


class TruncatedArchive(ArchiveError):
    """The archive ends before its end header: cut short, or the first of several volumes."""


class UnreadableContainer(ArchiveError):
    """The archive uses a method or container mirror does not read (a repack): nothing could be checked."""


class NotABundle(UnreadableContainer):
    """A well-formed 7z archive with nothing signed in it: another project's archive (or one whose signed files
    were all taken out). Nothing in it could be checked; it is not called damaged."""


class SignatureError(VerificationError):
    """Malformed or wrong signature."""


class ManifestError(VerificationError):
    """Malformed or inconsistent SHA256SUMS or bundle.json."""


class ContentError(VerificationError):
    """A member is missing, extra, or does not match its hash.

    Args:
        message: the summary line.
        problems: one line per failing file.
    """

    def __init__(self, message: str, hint: str | None = None, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.problems = problems or (message,)


class UntrustedSigner(MirrorError):
    """The bundle is intact but its signer is not in the keyring.

    Args:
        key_id: the signer's key id.
        fingerprint: the signer's fingerprint, to compare by phone or in person.
        message, hint: instead of the reader's line, for a command with its own (publish has no --untrusted).
    """

    exit_code = ExitCode.UNTRUSTED

    def __init__(self, key_id: str, fingerprint: str, message: str | None = None, hint: str | None = None) -> None:
        super().__init__(
            message or f"the bundle is intact, but its signer (key {key_id}) is not in your keyring; "
            f"fingerprint {fingerprint}",
            hint=hint or "compare the fingerprint with the author by phone or in person, then "
            "`mirror keys import`; or pass --untrusted to use it anyway",
        )
        self.key_id = key_id
        self.fingerprint = fingerprint


class Failure(StrEnum):
    """Why a transfer failed: one vocabulary for readers (fetch) and publishers (publish, status)."""

    UNREACHABLE = "unreachable"  # no connection: refused, reset, name not found
    TIMEOUT = "timeout"  # a deadline passed, or the peer sent too little for too long
    MISSING = "missing"  # the file is not there
    REFUSED = "refused"  # the server said no: authentication, permission, an HTTP error status
    BAD_ANSWER = "bad answer"  # an answer against the protocol: too large, a wrong range, other bytes than sent


_TRANSIENT = frozenset({Failure.UNREACHABLE, Failure.TIMEOUT})


class TransferError(MirrorError):
    """A host or mirror failed or refused.

    Args:
        where: the host's name from mirror.toml, or the mirror's label.
        reason: what went wrong, without credentials.
        failure: the kind of failure.
        transient: whether trying again may help; by default, for unreachable and timed-out peers.
    """

    def __init__(self, where: str, reason: str, failure: Failure = Failure.REFUSED, *,
                 transient: bool | None = None, hint: str | None = None) -> None:
        super().__init__(f"{where}: {reason}", hint)
        self.where = where
        self.reason = reason
        self.failure = failure
        self.transient = failure in _TRANSIENT if transient is None else transient


class MissingFile(TransferError):
    """The path does not exist on the host or mirror."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(where, reason, Failure.MISSING)
