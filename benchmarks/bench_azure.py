"""Benchmark the Azure blob source against a real Azurite, in one run.

1. Read a ~100 MB VNet corpus (``flowkit.synth.write_corpus``) with ``read_flow_logs``
   from local disk and from Azurite (8 concurrent downloads): MB/s and the ratio
   (target: Azurite >= 0.5x local). Raw download rate (no decoding) is reported too.
2. The cost of one ``follow`` poll on a growing 60-block blob: bytes downloaded per
   poll against the new block and the whole blob, requests and milliseconds per poll.

Run ``python benchmarks/bench_azure.py [--mb 100] [--repeat 2] [--json PATH]``; needs
``npm ci`` (Azurite in node_modules) and the ``azure`` extra.

Examples
--------
>>> main(["--mb", "5", "--repeat", "1"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
AZURITE = REPO / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _start_azurite(workdir: Path) -> tuple[subprocess.Popen, str]:
    if not AZURITE.exists():
        raise SystemExit(f"{AZURITE} is missing: run `npm ci` first")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(workdir / "azurite.log", "ab")
    proc = subprocess.Popen([str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                             "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry"],
                            cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
    for _ in range(600):
        try:
            urllib.request.urlopen(endpoint + "?comp=list", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
    conn = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint={endpoint};")
    return proc, conn


def _corpus(mb: int) -> tuple[Path, int]:
    from flowkit.synth import write_corpus

    dest = REPO / "benchmarks" / "corpus" / f"azure-vnet-{mb}mb"
    marker = dest / ".done"
    if not marker.exists():
        write_corpus(dest, log_type="vnet", target_bytes=mb * 1_000_000, seed=0)
        marker.write_text("ok")
    size = sum(p.stat().st_size for p in dest.rglob("*.json"))
    return dest, size


def _upload(conn: str, root: Path) -> int:
    from azure.storage.blob import BlobServiceClient

    svc = BlobServiceClient.from_connection_string(conn)
    files = sorted(root.rglob("*.json"))
    for c in {p.relative_to(root).parts[0] for p in files}:
        svc.create_container(c)

    def put(p: Path) -> None:
        rel = p.relative_to(root).as_posix()
        container, _, name = rel.partition("/")
        svc.get_blob_client(container, name).upload_blob(p.read_bytes(), overwrite=True)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, files))
    return len(files)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _read_bench(conn: str, root: Path, size: int, repeat: int, concurrency: int) -> dict:
    import flowkit
    from flowkit.sources.azure import AzureBlobSource
    from flowkit.sources.local import LocalSource

    src = AzureBlobSource.from_connection_string(conn, max_concurrency=concurrency, progress=False)
    local = LocalSource(root)
    rows = {}

    def read_local():
        rows["local"] = len(flowkit.read_flow_logs(root, progress=False))

    def read_azure():
        rows["azure"] = len(flowkit.read_flow_logs(src, progress=False))

    def raw(source):
        def go():
            refs = source.list_blobs().refs
            n = sum(len(b) for _, b in source.iter_bytes(refs))
            assert n == size, (n, size)
        return go

    t_local = _best(read_local, repeat)
    t_azure = _best(read_azure, repeat)
    assert rows["local"] == rows["azure"], rows
    t_raw_local = _best(raw(local), repeat)
    t_raw_azure = _best(raw(src), repeat)
    mb = size / 1e6
    return {"mb": round(mb, 1), "rows": rows["azure"], "concurrency": concurrency,
            "local_read_mb_s": round(mb / t_local, 1), "azure_read_mb_s": round(mb / t_azure, 1),
            "ratio": round(t_local / t_azure, 2),
            "local_raw_mb_s": round(mb / t_raw_local, 1), "azure_raw_mb_s": round(mb / t_raw_azure, 1)}


def _follow_bench(conn: str) -> dict:
    from azure.storage.blob import BlobBlock, BlobServiceClient

    from flowkit.sources.azure import AzureBlobSource
    from flowkit.sources.follow import Follower
    from flowkit.sources.layout import VNET_CONTAINER, vnet_blob_name
    from flowkit.synth import HEAD_BLOCK, TAIL_BLOCK, blob_blocks, record_time, vnet_record, vnet_tuple

    hour = pd.Timestamp.now(tz="UTC").floor("h")
    mac = "000D3A00F00D"
    records = []
    for minute in range(60):
        t0 = int(hour.timestamp()) + 60 * minute + 30
        tuples = [vnet_tuple((t0 - k) * 1000, "10.10.1.4", f"198.51.100.{k + 1}", 40000 + k, 443, 6, "O",
                             "C", "NX", (3, 700, 2, 1500)) for k in range(40)]
        records.append(vnet_record(record_time(t0, 0), "guid", mac, "/FL", "/VNET",
                                   [("00000000-0000-0000-0000-000000000000", [("DefaultRule_AllowInternetOutBound", tuples)])]))
    blocks = blob_blocks(records)[1:-1]
    name = "flowLogResourceID=" + vnet_blob_name("00000000-0000-0000-0000-000000000009", "NWRG", "NW",
                                                  "FLBENCH", hour, mac)[len("flowLogResourceID="):]
    svc = BlobServiceClient.from_connection_string(conn)
    cc = svc.get_container_client(VNET_CONTAINER)
    if not cc.exists():
        cc.create_container()
    bc = cc.get_blob_client(name)
    bc.stage_block("head", HEAD_BLOCK)
    bc.stage_block("tail", TAIL_BLOCK)
    bc.commit_block_list(["head", "tail"])
    requests: list[int] = []
    src = AzureBlobSource.from_connection_string(conn, progress=False, flow_log="FLBENCH",
                                                 client_kwargs={"raw_request_hook": lambda r: requests.append(1)})
    with tempfile.TemporaryDirectory() as tmp:
        follower = Follower(src, log_type="vnet", checkpoint=Path(tmp) / "cp.json", start=hour)
        follower.poll()
        ids: list[str] = []
        polls = []
        for i, block in enumerate(blocks):
            ids.append(f"r{i:04d}")
            bc.stage_block(ids[-1], block)
            bc.commit_block_list([BlobBlock("head")] + [BlobBlock(x) for x in ids] + [BlobBlock("tail")])
            requests.clear()
            t0 = time.perf_counter()
            batch = follower.poll()
            polls.append((time.perf_counter() - t0, batch.bytes_downloaded, len(block), len(requests), len(batch)))
    last = polls[-1]
    blob_size = len(HEAD_BLOCK) + sum(len(b) for b in blocks) + len(TAIL_BLOCK)
    return {"blocks": len(blocks), "blob_bytes": blob_size,
            "last_poll_bytes": last[1], "last_new_block_bytes": last[2],
            "bytes_per_poll_over_block": round(sum(p[1] for p in polls) / sum(p[2] for p in polls), 3),
            "bytes_per_poll_over_blob_at_end": round(last[1] / blob_size, 4),
            "requests_per_poll": round(sum(p[3] for p in polls) / len(polls), 1),
            "ms_per_poll_median": round(1000 * sorted(p[0] for p in polls)[len(polls) // 2], 1),
            "rows_per_poll": polls[-1][4]}


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks, print a summary, optionally write JSON; return 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--json", default=None, help="write results here")
    args = ap.parse_args(argv)
    root, size = _corpus(args.mb)
    with tempfile.TemporaryDirectory() as work:
        proc, conn = _start_azurite(Path(work))
        try:
            t0 = time.perf_counter()
            files = _upload(conn, root)
            print(f"uploaded {files} blobs, {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            read = _read_bench(conn, root, size, args.repeat, args.concurrency)
            follow = _follow_bench(conn)
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
    result = {"read": read, "follow": follow}
    print(f"read {read['mb']} MB ({read['rows']} rows): local {read['local_read_mb_s']} MB/s, "
          f"Azurite {read['azure_read_mb_s']} MB/s at {read['concurrency']} downloads, "
          f"ratio {read['ratio']} (target >= 0.5); raw download {read['azure_raw_mb_s']} MB/s "
          f"vs local raw {read['local_raw_mb_s']} MB/s")
    print(f"follow poll on a {follow['blocks']}-block blob ({follow['blob_bytes']} B): "
          f"{follow['last_poll_bytes']} B downloaded for a {follow['last_new_block_bytes']} B block "
          f"(downloaded/new = {follow['bytes_per_poll_over_block']}), "
          f"{follow['requests_per_poll']} requests and {follow['ms_per_poll_median']} ms per poll")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
