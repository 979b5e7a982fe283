"""The bench's per-run PKI (harness/bench.py, harness/pki.py): made when the PICS declares a security
profile, its certificates in the report's pki/ folder, its keys gone when the bench stops, and a
real charge point told which root to trust."""

from __future__ import annotations

from harness import pics as pics_module
from harness.bench import BenchOptions, CentralSystemBench


def _bench(name: str, tmp_path):
    pics = pics_module.load(pics_module.default_path("cs").parent / name)
    return CentralSystemBench(pics, BenchOptions(
        sut="cs", dut="external", listen=("127.0.0.1", 0), csms_url=None, driver="prompt",
        pki_dir=tmp_path / "pki"))


async def test_pki_of_a_security_run(tmp_path):
    bench = _bench("security_cs.toml", tmp_path)
    said: list[str] = []
    bench.notify = said.append
    await bench.start()
    key_file = bench.pki.server.key_file
    try:
        assert bench.server.url.startswith("wss://") and key_file.exists()
        assert any(str(tmp_path / "pki" / "csms_root.pem") in line for line in said)
    finally:
        await bench.stop()
    assert not key_file.exists()
    written = sorted(p.name for p in (tmp_path / "pki").iterdir())
    assert "csms_root.pem" in written and not any("key" in name for name in written)


async def test_no_pki_without_a_security_profile(tmp_path):
    bench = _bench("default_cs.toml", tmp_path)
    assert bench.pki is None and not (tmp_path / "pki").exists()
