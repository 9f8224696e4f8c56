"""The Dask engine over Azure Blob Storage (Azurite): listed on the client, read on the workers."""

from __future__ import annotations

import importlib.util

import pytest

from flowkit.analysis.graph import talker_graph
from flowkit.scale.aggregations import talker_graph_dask
from flowkit.scale.dask_read import read_flow_logs_dask

from scale_helpers import REPO, SAMPLES, assert_same_frame, graph_dict, read_json

pytest.importorskip("azure.storage.blob")


def _azurite_class():
    """The Azurite runner of the source tests (tests/sources/conftest.py), loaded by path."""
    spec = importlib.util.spec_from_file_location("flowkit_sources_conftest", REPO / "tests" / "sources" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Azurite


@pytest.fixture(scope="module")
def azure_samples(tmp_path_factory: pytest.TempPathFactory):
    """Azurite holding data-samples/nsg-vs-vnet (both containers); yields its connection string."""
    from azure.storage.blob import BlobServiceClient

    server = _azurite_class()(tmp_path_factory.mktemp("azurite-scale"))
    server.start()
    try:
        service = BlobServiceClient.from_connection_string(server.connection_string)
        root = SAMPLES / "nsg-vs-vnet"
        for path in sorted(root.rglob("PT1H.json")):
            container, _, blob = path.relative_to(root).as_posix().partition("/")
            cc = service.get_container_client(container)
            if not cc.exists():
                cc.create_container()
            cc.upload_blob(blob, path.read_bytes(), overwrite=True)
        yield server.connection_string
    finally:
        server.stop()


def test_dask_reads_azure_on_the_workers(dask_client, azure_samples: str) -> None:
    from flowkit.sources.azure import AzureBlobSource

    source = AzureBlobSource.from_connection_string(azure_samples, container="insights-logs-flowlogflowevent")
    ddf = read_flow_logs_dask(source, partition_bytes=60_000)
    assert ddf.npartitions >= 3
    names = [str(k) for k in ddf.__dask_graph__().keys()]
    assert not [n for n in names if "AccountKey" in n or "Eby8vdM02" in n or "AzureBlobSource" in n]
    local = read_json(SAMPLES / "nsg-vs-vnet", log_type="vnet")
    got = ddf.compute()
    assert got["blob"].astype(str).str.startswith("insights-logs-flowlogflowevent/").all()
    cols = [c for c in local.columns if c != "blob"]
    assert_same_frame(got[cols], local[cols])
    assert graph_dict(talker_graph_dask(ddf)) == graph_dict(talker_graph(local))
