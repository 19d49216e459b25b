"""The S3 photo store (PHOTO_STORE=s3): the same content-addressed objects in a bucket of any S3-compatible
store (AWS, MinIO, Ceph, SeaweedFS, a Swedish cloud), so that app servers keep no state of their own.

Objects are written without an ACL, so they are as private as the bucket (never public-read); they reach a
browser only through the access-checked photo route, which streams them. Renewing an existing object for the
collector's grace period is a server-side copy onto itself with its metadata replaced: the store sets a new
LastModified, no bytes travel, and `flask photos gc` reads the ages from the bucket listing.
"""

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from fieldwalk.photos.store import VARIANTS, Opened, StoredObject, checked_name, relative_key

_MISSING = {"NoSuchKey", "404", "NotFound"}
_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})(?:" + "|".join(map(re.escape, VARIANTS.values())) + ")")


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _MISSING


@cache
def s3_client(endpoint_url: str, region: str, access_key_id: str, secret_access_key: str) -> Any:
    """One client per set of settings, shared by the app's threads (boto3 clients are thread-safe).
    Empty settings fall back to boto3's own (AWS_* variables, ~/.aws, an instance role)."""
    config = Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
        # Stores other than AWS understand path-style addresses without a DNS name per bucket, and not
        # every one takes the checksums newer boto3 adds to each upload by default.
        s3={"addressing_style": "path"} if endpoint_url else {},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=config,
    )


class S3Store:
    """Photo objects named `<prefix>/ab/cd/<sha256>.jpg` (and `.thumb.jpg`) in one bucket."""

    def __init__(self, client: Any, bucket: str, prefix: str = ""):
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "S3Store":
        client = s3_client(
            config["S3_ENDPOINT_URL"], config["S3_REGION"], config["S3_ACCESS_KEY_ID"], config["S3_SECRET_ACCESS_KEY"]
        )
        return cls(client, config["S3_BUCKET"], config["S3_PREFIX"])

    def key(self, sha256: str, variant: str = "full") -> str:
        return self.prefix + relative_key(sha256, variant)

    def exists(self, sha256: str, variant: str = "full") -> bool:
        return self.modified(self.key(sha256, variant)) is not None

    def put(self, sha256: str, variant: str, data: bytes) -> bool:
        key = self.key(sha256, variant)
        try:  # renew it if it is there: a copy onto itself gets a new LastModified
            self.client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                ContentType="image/jpeg",
            )
        except ClientError as error:
            if not _missing(error):
                raise
        else:
            return False
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="image/jpeg")
        return True

    def open(self, sha256: str, variant: str = "full") -> Opened:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256, variant))
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(self.key(sha256, variant)) from None
            raise
        return Opened(answer["Body"], answer["ContentLength"])

    def read(self, sha256: str, variant: str = "full") -> bytes:
        stream = self.open(sha256, variant).stream
        try:
            return stream.read()
        finally:
            stream.close()

    def stored(self) -> Iterator[StoredObject]:
        """Every object under the prefix that has the store's own layout; nothing else in the bucket is
        listed, so the collector never touches it."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                match = _KEY.fullmatch(item["Key"][len(self.prefix) :])
                if match:
                    yield StoredObject(item["Key"], match.group(1), item["LastModified"].timestamp())

    def modified(self, key: str) -> float | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)["LastModified"].timestamp()
        except ClientError as error:
            if _missing(error):
                return None
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def put_file(self, name: str, data: bytes, content_type: str) -> str:
        """A generated file under the prefix (the protocol store's prefix is its own namespace)."""
        key = self.prefix + checked_name(name)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return key

    def open_file(self, key: str) -> Opened:
        if not key.startswith(self.prefix) or checked_name(key[len(self.prefix) :]) != key[len(self.prefix) :]:
            raise ValueError("not a key of this store")
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(key) from None
            raise
        return Opened(answer["Body"], answer["ContentLength"])
