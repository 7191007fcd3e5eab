"""Type checkers see the ``__init__`` that :class:`genbench.Component` writes (``dataclass_transform``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_sees_the_generated_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYPYPATH", str(ROOT))  # genbench from the source tree (an editable install hides it)
    source = textwrap.dedent(
        """
            from typing import Literal

            import genbench
            from genbench.params import param


            class Bridge(genbench.Sampler):
                name = "bridge"
                eps: float = param(0.01, gt=0)
                noise: Literal["isotropic", "data_aware"] = "data_aware"


            Bridge()
            Bridge(0.5)
            Bridge(eps=0.5, noise="isotropic")
            Bridge(epz=0.5)  # error: no such parameter
            Bridge(noise="gaussian")  # error: not one of the choices
            """
    )
    (tmp_path / "use.py").write_text(source)
    expected = [str(i) for i, line in enumerate(source.splitlines(), 1) if "# error" in line]
    out, err, status = api.run(
        [
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--follow-imports=silent",
            "--config-file",
            "",
            str(tmp_path / "use.py"),
        ]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == expected, out + err
    assert 'Unexpected keyword argument "epz"' in errors[0]
    assert status == 1
