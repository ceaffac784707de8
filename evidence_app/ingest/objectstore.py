"""Object storage as a Worker-log source: ``s3://bucket/key-glob`` listed and streamed (Amazon S3, Cloudflare R2,
any S3 API), never copied to disk or held whole.

A pattern is listed from the text before its first wildcard, and every key is matched with the same glob
dialect as files on disk (:mod:`evidence_app.ingest._globs`). An object is read in chunks through the same
line reader and caps as a file; it is opened with ``If-Match`` its listed ETag, so what is read is what was
listed. Each object read leaves an :class:`ObjectRecord` (key, size, ETag, SHA-256 of its bytes) for the
pack's manifest. The SDK's errors become :class:`ObjectStoreError` (an ``OSError``, like a file that cannot be
read) with a reason that never holds a credential.
"""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

from evidence_app.config.settings import S3_SCHEME, S3Config, s3_credentials
from evidence_app.ingest._globs import glob_match, literal_prefix
from evidence_app.masking import mask_text

_CHUNK = 1 << 20


class ObjectStoreError(OSError):
    """Listing or reading object storage failed; ``strerror`` says why (masked)."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EIO, reason)


@dataclass(frozen=True)
class ObjectRecord:
    """One object read as a log source, identified by the store and by its bytes."""

    name: str
    """``s3://bucket/key``."""
    key: str
    size: int
    """Bytes, as listed (and read)."""
    etag: str
    """The store's ETag, without quotes (an MD5 of the bytes only for single-part uploads)."""
    last_modified: str
    """ISO-8601 UTC, as listed."""
    sha256: str
    """Of the object's bytes as read (the rest of an object cut at ``max_file_bytes`` is read to finish it)."""

    def as_json(self) -> dict:
        return {"name": self.name, "key": self.key, "size": self.size, "etag": self.etag,
                "last_modified": self.last_modified, "sha256": self.sha256}


@dataclass(frozen=True)
class StoredObject:
    """An object a pattern matched, as listed; :meth:`open` streams it."""

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: str
    client: Any = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key}"

    def fingerprint(self) -> list:
        """What the web app's snapshot compares: the listing's key, size, ETag and time (no object is read)."""
        return [self.name, self.size, self.etag, self.last_modified]

    def open(self) -> ObjectReader:
        with translated():
            response = self.client.get_object(Bucket=self.bucket, Key=self.key, IfMatch=f'"{self.etag}"')
        return ObjectReader(self, response["Body"])


class ObjectReader:
    """A binary stream over one object's body: read in chunks, hashed as it goes; errors as :class:`ObjectStoreError`
    (so a scan treats it like a file that cannot be read)."""

    def __init__(self, listed: StoredObject, body: Any) -> None:
        self.listed, self._body = listed, body
        self._digest, self._read = hashlib.sha256(), 0

    def read(self, size: int = _CHUNK) -> bytes:
        with translated():
            data = self._body.read(size)
        self._digest.update(data)
        self._read += len(data)
        return data

    def record(self) -> ObjectRecord:
        """Finish reading (in chunks, only hashed) and identify what was read."""
        while self.read(_CHUNK):
            pass
        if self._read != self.listed.size:
            raise ObjectStoreError(f"{self.listed.name}: {self._read:,} bytes read, {self.listed.size:,} listed")
        o = self.listed
        return ObjectRecord(o.name, o.key, o.size, o.etag, o.last_modified, self._digest.hexdigest())

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Listing:
    """What the ``s3://`` patterns matched, and, per pattern, why it could not be listed."""

    objects: dict[str, StoredObject] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)


def locate_objects(patterns: list[str], s3: S3Config) -> Listing:
    """List every pattern's bucket from its literal prefix and keep the keys its glob matches."""
    listing = Listing()
    client = make_client(s3)
    for pattern in patterns:
        bucket, _, key_glob = pattern[len(S3_SCHEME):].partition("/")
        try:
            for item in _listed(client, bucket, literal_prefix(key_glob)):
                if glob_match(tuple(item["Key"].split("/")), tuple(key_glob.split("/"))):
                    found = _stored(client, bucket, item)
                    listing.objects[found.name] = found
        except ObjectStoreError as exc:
            listing.unreadable[pattern] = exc.strerror
    return listing


def _listed(client: Any, bucket: str, prefix: str) -> Iterator[dict]:
    with translated():
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            yield from page.get("Contents", [])


def _stored(client: Any, bucket: str, item: dict) -> StoredObject:
    return StoredObject(bucket=bucket, key=item["Key"], size=int(item["Size"]), etag=item["ETag"].strip('"'),
                        last_modified=item["LastModified"].isoformat(), client=client)


def make_client(s3: S3Config) -> Any:
    """An S3 client with the configured endpoint, region and credentials (from the environment: exit 2 if unset);
    short timeouts and two attempts, so an unreachable endpoint fails in seconds."""
    import boto3
    from botocore.config import Config as BotoConfig

    creds = s3_credentials(s3)
    session = boto3.session.Session(aws_access_key_id=creds.access_key_id,
                                    aws_secret_access_key=creds.secret_access_key,
                                    aws_session_token=creds.session_token, region_name=s3.region)
    config = BotoConfig(connect_timeout=10, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"},
                        s3={"addressing_style": "path"} if s3.endpoint_url else None)
    return session.client("s3", endpoint_url=s3.endpoint_url, config=config)


_REASONS = {
    "NoSuchBucket": "bucket not found",
    "NoSuchKey": "object not found (deleted since it was listed)",
    "PreconditionFailed": "object changed since it was listed (ETag differs)",
    "AccessDenied": "access denied: check the credentials and permissions of worker_logs.s3",
    "InvalidAccessKeyId": "access key not recognised: check worker_logs.s3.access_key_id_env",
    "SignatureDoesNotMatch": "signature refused: check worker_logs.s3.secret_access_key_env",
}


@contextmanager
def translated() -> Iterator[None]:
    """The SDK's and the connection's exceptions as :class:`ObjectStoreError`, their text masked."""
    from botocore.exceptions import BotoCoreError, ClientError  # a broken body stream: ResponseStreamingError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "") or exc.response.get("ResponseMetadata", {})
                   .get("HTTPStatusCode", "error"))
        raise ObjectStoreError(f"{_REASONS.get(code, mask_text(str(exc)))} ({code})") from exc
    except BotoCoreError as exc:
        raise ObjectStoreError(mask_text(str(exc)) or type(exc).__name__) from exc
