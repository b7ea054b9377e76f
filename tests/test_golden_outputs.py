"""The bundled review's outputs (on a committed copy of its sheets) are unchanged by a refactor.

A change on purpose updates the expected files in the same commit (``python tests/fixtures/golden/golden.py``)
and names the reason in the commit message.
"""

import importlib.util
import os

import pytest

pytestmark = pytest.mark.slow

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("golden", os.path.join(HERE, "fixtures", "golden", "golden.py"))
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("golden")
    golden.build(str(outdir))
    return golden.normalised(str(outdir))


def test_the_same_files_are_written(outputs):
    assert sorted(outputs) == sorted(golden.expected())


@pytest.mark.parametrize("relative", sorted(golden.expected()))
def test_each_output_is_unchanged(outputs, relative):
    want = golden.expected()[relative]
    got = outputs.get(relative)
    assert got is not None, f"{relative} is no longer written"
    if isinstance(want, bytes):
        assert got.decode("utf-8") == want.decode("utf-8"), f"{relative} changed"
    else:
        assert golden.digest(got) == want, (f"{relative} changed: regenerate with tests/fixtures/golden/golden.py "
                                            "and compare the outputs")
