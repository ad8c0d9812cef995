"""S3Host: a mirror in an S3 bucket (AWS, SeaweedFS, Garage, Ceph), through boto3 (the `s3` extra).

Example::

    [hosts.bucket]
    url = "s3://mirror-bucket/press"             # bucket, then a key prefix
    endpoint = "https://s3.example.org"          # omit for AWS
    region = "eu-central-1"
    access_key_env = "MIRROR_S3_ACCESS_KEY"
    secret_key_env = "MIRROR_S3_SECRET_KEY"

    host = open_host(config.host("bucket"))
    host.upload("bundles/ab12.7z", Path("ab12.7z"), sha256)   # one PUT, or multipart above 64 MB

S3 has no rename, and needs none: an object appears only when its PUT or its multipart
upload completes, and then replaces the old object whole, so every upload is atomic per
object. A failed multipart upload is aborted, so its parts are not kept (or billed).
Addressing is path-style, which every S3-compatible server understands.

botocore bounds each socket operation (connect_timeout, read_timeout) but not a request:
a server that drips its answer holds it forever. So botocore's documented `before-send`
event hands every signed request to a urllib3 pool whose connections a Watch can cut
(net/http.py), and each call runs under a Watch (net/pace.py) with the host's minimum
rate and the caller's budget. Proxies from the environment are not used.

botocore reads an answer it parses (an error, a multipart upload's XML; a PUT's empty body) whole: the
handler reads it first, streamed, at most S3_ANSWER bytes, so a server answering without end is refused
with a one-line error instead of filling memory. Only an object's body (GET) is left to the caller, which
reads it capped too (`read`, and `read_back` by the size sent).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import urlsplit

from mirror.errors import ConfigError, Failure, MissingFile, TransferError
from mirror.net.http import read_answer, send, timed_out, watched_pool
from mirror.net.pace import Limits, Watch, cleanup
from mirror.publish.config import HostConfig
from mirror.publish.hosts import SourceFailed, SourceReader, check_path
from mirror.publish.hosts.base import CHUNK, MAX_LISTING, read_back, too_many
from mirror.safeio import read_at_most

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse
    from botocore.exceptions import ClientError
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

MULTIPART_THRESHOLD = 64 << 20
PART_SIZE = 16 << 20  # S3 wants at least 5 MiB per part but the last, and at most 10,000 parts
# An answer botocore parses: an error's XML, a multipart upload's (its id, the completed object's ETag), each well
# under 2 KiB, or nothing (PUT, HEAD, a part, an abort). More is a server answering without end.
S3_ANSWER = 64 << 10
# One page of a listing (ListObjectsV2, at most LIST_PAGE keys of at most 1,024 bytes each, in XML); a listing has
# at most LIST_PAGES pages, so a server that says "more" without end is stopped too.
LIST_PAGE = 1000
LIST_ANSWER = 2 << 20
LIST_PAGES = 2 * MAX_LISTING // LIST_PAGE
_LIST_REFUSED = {403, 405, 501}
_AUTH_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
_RETRY_CODES = {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed"}


class S3Host:
    """A mirror under a key prefix of one bucket.

    Args:
        name: the host's name from mirror.toml.
        bucket: the bucket.
        prefix: keys are `prefix/path`; "" for the bucket's top.
        client: a boto3 S3 client (see `from_config` for the settings it should have).
        limits: the stall time, minimum rate and default budget of every request.
    """

    def __init__(self, name: str, bucket: str, prefix: str, client: S3Client, limits: Limits) -> None:
        self._name = name
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client
        self._limits = limits
        self._pool = watched_pool(limits)
        self._doing = ""  # the call under way, to name it in errors of the before-send handler
        self._answer = S3_ANSWER  # how much of a parsed answer is read (more while listing)
        # The stubs type handlers as returning None; before-send handlers may return the response (botocore's docs).
        client.meta.events.register("before-send.s3", self._send)  # type: ignore[arg-type]
        self.multipart_threshold = MULTIPART_THRESHOLD
        self.part_size = PART_SIZE

    def __repr__(self) -> str:
        return f"S3Host({self._name!r}, 's3://{self.bucket}/{self.prefix}')"

    @property
    def name(self) -> str:
        """The host's name from mirror.toml."""
        return self._name

    @classmethod
    def from_config(cls, config: HostConfig) -> S3Host:
        """A host for `s3://bucket/prefix`, with keys from the environment when access_key_env is set.

        Raises:
            ConfigError: boto3 is missing, the URL or endpoint is malformed, or a key variable is unset.
        """
        parts = urlsplit(config.url)
        where = f"hosts.{config.name}"
        if not parts.netloc or "@" in parts.netloc:
            raise ConfigError(f"{where}.url: must be s3://BUCKET/PREFIX", hint="keys go in access_key_env")
        if config.endpoint is not None and urlsplit(config.endpoint).scheme not in ("http", "https"):
            raise ConfigError(f"{where}.endpoint: must be an http(s) URL")
        access, secret = config.secret("access_key_env"), config.secret("secret_key_env")
        if (access is None) != (secret is None):
            raise ConfigError(f"{where}: set both access_key_env and secret_key_env, or neither")
        return cls(config.name, parts.netloc, parts.path, _client(config, access, secret), config.limits)

    def stat(self, path: str) -> int | None:
        """The object's size from HEAD, or None if there is no such object.

        Raises:
            TransferError: any other failure.
        """
        try:
            with self._errors("HEAD", path):
                return self._client.head_object(Bucket=self.bucket, Key=self._key(path))["ContentLength"]
        except MissingFile:
            return None

    def sizes(self, folder: str, wanted: Collection[str] | None = None) -> dict[str, int] | None:
        """The size of every object directly under `folder/`, from ListObjectsV2 with that prefix and "/" as the
        delimiter, a page of LIST_PAGE keys at a time; an empty dict if there are none, None if the server will not
        list them (HTTP 403, 405 or 501: a key allowed to read and write objects but not to list the bucket).

        Raises:
            TransferError: the server failed, or listed more than MAX_LISTING keys or LIST_PAGES pages.
        """
        from botocore.exceptions import ClientError

        prefix = self._key(f"{folder}/x")[:-1] if folder else (f"{self.prefix}/" if self.prefix else "")
        found: dict[str, int] = {}
        listed = 0
        token: str | None = None
        before, self._answer = self._answer, LIST_ANSWER
        try:
            for _ in range(LIST_PAGES):
                with self._errors("LIST", f"{folder or '.'}/"):
                    try:
                        page = self._client.list_objects_v2(
                            Bucket=self.bucket, Prefix=prefix, Delimiter="/", MaxKeys=LIST_PAGE,
                            ContinuationToken=token) if token else self._client.list_objects_v2(
                            Bucket=self.bucket, Prefix=prefix, Delimiter="/", MaxKeys=LIST_PAGE)
                    except ClientError as exc:
                        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
                        if status in _LIST_REFUSED:
                            return None
                        raise
                for item in page.get("Contents", []):
                    name = item.get("Key", "")[len(prefix):]
                    listed += 1
                    if wanted is not None and name not in wanted:
                        continue
                    if name and "/" not in name and item.get("Key", "").startswith(prefix):
                        size = item.get("Size")
                        if size is None or size < 0:  # a key without its size: asked for by HEAD, not taken as
                            return None  # there (-1 passed as a side file that is there and not empty)
                        found[name] = size
                if listed > MAX_LISTING:
                    raise too_many(self._name, folder, MAX_LISTING)
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    return found
            raise too_many(self._name, folder, MAX_LISTING)
        finally:
            self._answer = before

    def read(self, path: str, limit: int) -> bytes:
        """The whole object, refusing more than `limit` bytes.

        Raises:
            MissingFile: no such object.
            TransferError: larger than `limit`, or any other failure.
        """
        with self._errors("GET", path):
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(path))
            body = response["Body"]
            with contextlib.closing(body):
                # an answer without Content-Length (read to the connection's end) gives none: a KeyError was a
                # traceback, and read(limit + 1) of it would set the limit aside before reading a byte
                length = cast("dict[str, Any]", response).get("ContentLength")  # typed as always there
                if length is not None and length > limit:
                    raise TransferError(self._name, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
                data = read_at_most(cast(BinaryIO, body), limit + 1)
        if len(data) > limit:
            raise TransferError(self._name, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
        return data

    def stream(self, path: str) -> Iterator[bytes]:
        """The object in chunks, from one GET.

        Raises:
            MissingFile: no such object.
            TransferError: any other failure, including a body cut short.
        """
        with self._errors("GET", path):
            body = self._client.get_object(Bucket=self.bucket, Key=self._key(path))["Body"]
            with contextlib.closing(body):
                yield from body.iter_chunks(CHUNK)

    def upload(self, path: str, source: Path, sha256: str) -> None:
        """Store `source` with one PUT, or a multipart upload above `multipart_threshold`; read it back.

        Raises:
            TransferError: the server refused or failed, or the object reads back with another sha256.
            OSError: `source` cannot be read (it is local, not the host's fault).
        """
        key = self._key(path)
        size = source.stat().st_size
        with source.open("rb") as file:
            reader = SourceReader(file, size)
            try:
                if size <= self.multipart_threshold:
                    with self._errors("PUT", path):
                        body = cast("IO[bytes]", reader)  # file-like: read, seek, tell
                        self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentLength=size)
                else:
                    self._multipart(path, key, reader)
            except SourceFailed as exc:
                raise exc.error from None
        read_back(self, path, sha256, size)

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()
        self._pool.clear()

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        """botocore's before-send handler: the signed request, sent through the watched pool."""
        from botocore.awsrequest import AWSResponse

        # Expect: 100-continue needs botocore's own connection class; without it the body simply follows.
        headers = {str(k): _text(v) for k, v in request.headers.items() if str(k).lower() != "expect"}
        raw = send(self._pool, self._name, self._doing or request.method, request.method, request.url, request.body,
                   headers)
        if request.stream_output and raw.status < 300:  # an object's body: the caller reads it, capped
            return AWSResponse(request.url, raw.status, raw.headers, raw)  # type: ignore[arg-type]  # as botocore does
        what = f"the answer to {self._doing or request.method}"
        body = read_answer(raw, self._answer, self._name, what)  # botocore reads it whole: read it now, capped
        return AWSResponse(request.url, raw.status, raw.headers, _Read(body))  # type: ignore[arg-type]

    def _key(self, path: str) -> str:
        check_path(self._name, path)
        return f"{self.prefix}/{path}" if self.prefix else path

    def _multipart(self, path: str, key: str, reader: SourceReader) -> None:
        """Upload in parts of `part_size` bytes; abort (best effort) unless it completes."""
        with self._errors("PUT", path):
            upload_id = self._client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        completed = False
        try:
            parts: list[CompletedPartTypeDef] = []
            while data := reader.read(self.part_size):
                number = len(parts) + 1
                with self._errors("PUT", f"{path} (part {number})"):
                    etag = self._client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                    PartNumber=number, Body=data)["ETag"]
                parts.append({"ETag": etag, "PartNumber": number})
            with self._errors("PUT", path):
                self._client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                      MultipartUpload={"Parts": parts})
            completed = True
        finally:
            if not completed:
                with contextlib.suppress(TransferError), cleanup(), self._errors("abort", path):
                    self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    @contextlib.contextmanager
    def _errors(self, action: str, path: str) -> Iterator[None]:
        """Run a call under a Watch; turn botocore's exceptions into TransferError (MissingFile for a missing key)."""
        from botocore import exceptions

        before, self._doing = self._doing, f"{action} {path}"
        try:
            with Watch(self._name, self._doing, self._limits):
                try:
                    yield
                except exceptions.ClientError as exc:
                    raise self._client_error(action, path, exc) from exc
                except (exceptions.ConnectionError, exceptions.HTTPClientError,
                        exceptions.IncompleteReadError) as exc:
                    failure = Failure.TIMEOUT if timed_out(exc) else Failure.UNREACHABLE
                    raise TransferError(self._name, f"{action} {path}: {type(exc).__name__}", failure) from exc
                except exceptions.NoCredentialsError as exc:
                    raise TransferError(self._name, "no S3 credentials", Failure.REFUSED,
                                        hint="set access_key_env and secret_key_env") from exc
                except exceptions.BotoCoreError as exc:
                    raise TransferError(self._name, f"{action} {path}: {type(exc).__name__}",
                                        Failure.BAD_ANSWER) from exc
                except Exception as exc:  # raised again unless botocore raised it while reading an answer
                    if not _from_botocore(exc):
                        raise
                    raise TransferError(self._name, f"{action} {path}: the server's answer is malformed (a field "
                                        "that is not what S3 sends)", Failure.BAD_ANSWER) from exc
        finally:
            self._doing = before

    def _client_error(self, action: str, path: str, exc: ClientError) -> TransferError:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code == "NoSuchBucket":
            return TransferError(self._name, f"bucket {self.bucket} does not exist", Failure.REFUSED)
        if code in ("NoSuchKey", "NotFound") or status == 404:
            return MissingFile(self._name, f"{path} does not exist")
        if code in _AUTH_CODES or status in (401, 403):
            return TransferError(self._name, f"authentication failed ({code or status} for {action} {path})",
                                 Failure.REFUSED, hint="check the keys in access_key_env and secret_key_env")
        transient = code in _RETRY_CODES or status >= 500 or status in (408, 429)
        return TransferError(self._name, f"{action} {path}: {code or status}", Failure.REFUSED, transient=transient)


def _from_botocore(exc: Exception) -> bool:
    """Whether `exc` was raised while botocore parsed an answer: a `Size` that is not a number, or one of 5,000
    digits, a `Last-Modified` that is not a date (botocore raises ValueError, not one of its own errors, and a
    host's answer then ended the whole publish as an internal error), or a date no clock holds (1e400: botocore
    raises RuntimeError, helper-180). Any exception whose last frame is botocore's, not only these: its parsers
    are not ours to list."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and str(tb.tb_frame.f_globals.get("__name__", "")).startswith("botocore.")


class _Read:
    """An answer's body, read already, standing for urllib3's response where botocore reads it (`stream`)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self) -> Iterator[bytes]:
        """The whole body, once."""
        yield self._body


def _text(value: Any) -> str:
    """A header value as text: botocore's stubs say str, but the signed headers are bytes at run time."""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _client(config: HostConfig, access: str | None, secret: str | None) -> S3Client:
    """A path-style S3 client with the host's timeouts and no retries of its own (publish retries).

    Raises:
        ConfigError: boto3 is missing, or its configuration (e.g. AWS_PROFILE) is broken.
    """
    try:
        import boto3.session
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise ConfigError("S3 hosts need boto3, which is not installed", hint="pip install 'mirror[s3]'") from None
    settings = Config(s3={"addressing_style": "path"}, connect_timeout=config.timeout,
                      read_timeout=config.timeout, retries={"mode": "standard", "total_max_attempts": 1},
                      # S3-compatible servers do not all know the newer default checksums
                      request_checksum_calculation="when_required", response_checksum_validation="when_required")
    try:
        return boto3.session.Session().client(
            "s3", endpoint_url=config.endpoint, region_name=config.region or "us-east-1",
            aws_access_key_id=access, aws_secret_access_key=secret, config=settings)
    except BotoCoreError as exc:
        raise ConfigError(f"hosts.{config.name}: cannot set up S3: {exc}") from exc
