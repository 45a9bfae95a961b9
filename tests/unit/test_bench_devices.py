"""`hearth bench --devices`: a bad home size is a usage error, before anything starts."""

from __future__ import annotations


def test_bench_devices_refuses_a_home_size_out_of_range(capsys) -> None:  # type: ignore[no-untyped-def]
    from assistant.cli import main

    assert main(["bench", "--devices", "10", "0"]) == 2
    assert "--devices takes home sizes from 1 to 100000" in capsys.readouterr().err
