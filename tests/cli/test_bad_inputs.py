"""Bad input at the CLI: a clear error and exit 2 (or a correct result), never a traceback,
never a run that ignores a bound. Named cases from issue 15, then a property-based fuzz over
arch strings, numeric options, compare configs, protocol files and storage files.

The fuzz runs ``NASLAB_FUZZ_EXAMPLES`` examples per property (default 10: seconds in CI);
``benchmarks/fuzz.py`` runs the same properties with thousands.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from naslab.cli.main import main

EXAMPLES = int(os.environ.get("NASLAB_FUZZ_EXAMPLES", "10"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def run_cli(*args: str) -> tuple[int, str, str]:
    """``naslab ARGS`` in process: (exit status, stdout, stderr). Any exception but SystemExit
    (a traceback for the user) propagates and fails the test."""
    out, err = io.StringIO(), io.StringIO()
    rc = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return rc, out.getvalue(), err.getvalue()


def clean_error(rc: int, err: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err and err.strip(), err


# -- named cases ----------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (("--budget", "99999999999999999999999"), ("--budget",)),
    (("--budget", "1000000000"), ("--budget", "NASLAB_MAX_TRIALS")),
    (("--max-simulated-hours", "inf"), ("--max-simulated-hours", "finite")),
    (("--max-simulated-hours", "1e400"), ("--max-simulated-hours", "finite")),
    (("--max-simulated-hours", "1e9"), ("NASLAB_MAX_SIMULATED_HOURS",)),
    (("--max-wall-s", "nan"), ("--max-wall-s",)),
    (("--budget", "0"), ("budget", ">= 1")),
])
def test_unbounded_or_invalid_budgets_refused(args: tuple[str, ...], words: tuple[str, ...],
                                              tmp_path: Path, data_dir: Path) -> None:
    rc, _, err = run_cli("search", *args, "--data-dir", str(data_dir),
                         "--storage", str(tmp_path / "s.db"))
    clean_error(rc, err)
    for w in words:
        assert w in err, err
    assert not (tmp_path / "s.db").exists()  # refused before anything is opened


def test_trial_limit_can_be_raised_and_a_cost_budget_stops_at_it(
        tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASLAB_MAX_TRIALS", "40")
    rc, _, err = run_cli("search", "--budget", "41", "--data-dir", str(data_dir),
                         "--storage", str(tmp_path / "s.db"))
    clean_error(rc, err)
    assert "NASLAB_MAX_TRIALS" in err and "40" in err
    # a cost budget that 40 trials cannot meet stops at the limit, and says so
    rc, out, err = run_cli("search", "--strategy", "re", "--max-simulated-hours", "100000",
                           "--data-dir", str(data_dir), "--storage", str(tmp_path / "s.db"),
                           "--output", "json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["trials"] == 40 and "NASLAB_MAX_TRIALS" in d["note"]


def test_seed_count_bounded(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: x\nstrategies: [re]\nseeds: 1000000000\ntargets: [nb201/cifar10]\n"
                   "budget: {trials: 10}\n")
    rc, _, err = run_cli("compare", str(cfg), "--check")
    clean_error(rc, err)
    assert "seeds" in err and "NASLAB_MAX_SEEDS" in err


@pytest.mark.parametrize("content", [
    "name: x\nstrategies: [re]\n".encode("utf-16"),          # UTF-16 with a BOM: read
    "name: x\nstrategies: [re]\n".encode("utf-16-le"),       # without a BOM: refused
    bytes(range(256)),                                       # binary
    b"\xff\xfe\xfe\xff garbage \x00\x01",
    b"name: x\n\xc3\x28\n",                                  # invalid UTF-8
])
def test_binary_or_utf16_compare_config(content: bytes, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(content)
    rc, out, err = run_cli("compare", str(cfg), "--check")
    assert "Traceback" not in err
    if rc != 0:
        clean_error(rc, err)
        assert str(cfg) in err


def test_utf16_config_with_bom_is_read(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes("name: x\nstrategies: [re]\nseeds: 2\ntargets: [nb201/cifar10]\n"
                    "budget: {trials: 10}\n".encode("utf-16"))
    rc, out, err = run_cli("compare", str(cfg), "--check")
    assert rc == 0, err


@pytest.mark.parametrize("content", [bytes(range(256)), "name: nb201\n".encode("utf-16-le"),
                                     b"- just\n- a list\n", b"name: [unclosed\n"])
def test_bad_protocol_file(content: bytes, tmp_path: Path) -> None:
    p = tmp_path / "proto.yaml"
    p.write_bytes(content)
    rc, _, err = run_cli("train", "0", "--protocol", str(p))
    clean_error(rc, err)
    assert "protocol file" in err


def test_plot_format_checked_before_the_work(tmp_path: Path) -> None:
    rc, _, err = run_cli("predictors", "evaluate", "--plot", str(tmp_path / "x.foo"))
    clean_error(rc, err)
    assert "x.foo" in err and ".png" in err


# -- property-based fuzz ----------------------------------------------------------------------

ARCH_ALPHABET = "|+~0123456789_-abcdefghijklmnopqrstuvwxyz ,[]\"'\n\t\x00é"


@settings(FUZZ, max_examples=max(3, EXAMPLES // 2))  # each example loads the table: ~1 s
@given(arch=st.one_of(st.text(ARCH_ALPHABET, max_size=60), st.text(max_size=20),
                      st.integers(-10 ** 30, 10 ** 30).map(str)))
def test_fuzz_query_arch_strings(arch: str, data_dir: Path) -> None:
    rc, out, err = run_cli("query", arch, "--data-dir", str(data_dir))
    assert rc in (0, 2), (arch, rc, err)
    if rc == 2:
        clean_error(rc, err)
    else:
        assert out.strip()


NUMBERS = st.one_of(
    st.integers(-10 ** 25, 10 ** 25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["inf", "-inf", "nan", "1e400", "", " ", "0x10", "1_000", "٣", "1e-400"]),
    st.text(max_size=8),
)


@FUZZ
@given(option=st.sampled_from(["--budget", "--max-simulated-hours", "--max-wall-s", "--seed",
                               "--workers"]),
       value=NUMBERS)
def test_fuzz_numeric_options(option: str, value: str, data_dir: Path,
                              tmp_path_factory: pytest.TempPathFactory) -> None:
    db = tmp_path_factory.mktemp("fuzz") / "s.db"
    # a tiny trial limit: a value that is accepted must still end quickly (no unbounded run)
    env = os.environ.get("NASLAB_MAX_TRIALS")
    os.environ["NASLAB_MAX_TRIALS"] = "20"
    try:
        args = ["search", option, value, "--data-dir", str(data_dir), "--storage", str(db),
                "--no-progress", "--output", "json"]
        if option != "--budget":
            args += ["--budget", "5"] if option in ("--seed", "--workers") else []
        rc, out, err = run_cli(*args)
    finally:
        if env is None:
            del os.environ["NASLAB_MAX_TRIALS"]
        else:
            os.environ["NASLAB_MAX_TRIALS"] = env
    assert rc in (0, 2), (option, value, rc, err)
    if rc == 2:
        clean_error(rc, err)
    else:
        assert json.loads(out)["trials"] <= 20


YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12),
              st.floats(allow_nan=True), st.text(max_size=10)),
    lambda kids: st.one_of(st.lists(kids, max_size=4),
                           st.dictionaries(st.text(max_size=8), kids, max_size=4)),
    max_leaves=10)
CONFIG_KEYS = ["name", "space", "strategies", "seeds", "targets", "budget", "objective",
               "storage", "executor", "workers", "params", "val"]


@FUZZ
@given(cfg=st.dictionaries(st.sampled_from(CONFIG_KEYS), YAML_VALUES, max_size=6),
       base=st.booleans())
def test_fuzz_compare_configs(cfg: dict, base: bool,
                              tmp_path_factory: pytest.TempPathFactory) -> None:
    doc = ({"name": "x", "strategies": ["re"], "seeds": 2, "targets": ["nb201/cifar10"],
            "budget": {"trials": 10}} if base else {})
    doc.update(cfg)
    p = tmp_path_factory.mktemp("cfg") / "c.yaml"
    p.write_text(json.dumps(doc, default=str))  # JSON is YAML
    rc, _, err = run_cli("compare", str(p), "--check")
    assert rc in (0, 2), (doc, rc, err)
    if rc == 2:
        clean_error(rc, err)


@FUZZ
@given(data=st.one_of(st.binary(max_size=200),
                      st.dictionaries(st.sampled_from(["name", "epochs", "lr", "batch_size",
                                                       "augment", "schedule", "x"]),
                                      YAML_VALUES, max_size=5).map(
                                          lambda d: json.dumps(d, default=str).encode())))
def test_fuzz_protocol_files(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    p = tmp_path_factory.mktemp("proto") / "p.yaml"
    p.write_bytes(data)
    # --epochs 0 is refused after the protocol is read: nothing is ever trained here
    rc, _, err = run_cli("train", "0", "--protocol", str(p), "--epochs", "0")
    clean_error(rc, err)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[bytes, str]:
    db = tmp_path_factory.mktemp("db") / "s.db"
    rc, out, err = run_cli("search", "--strategy", "rs", "--budget", "15", "--data-dir",
                           str(data_dir), "--storage", str(db), "--output", "json")
    assert rc == 0, err
    return db.read_bytes(), json.loads(out)["experiment_id"]


@FUZZ
@given(offset=st.floats(0, 1), length=st.integers(1, 8192), fill=st.sampled_from(
    ["zero", "random", "ff"]), seed=st.integers(0, 2 ** 32 - 1),
       command=st.sampled_from(["runs", "show", "search"]))
# found by a longer fuzz run: zeroed bytes that leave a trial's incumbent pointing past the trials
@example(offset=0.38671875, length=27, fill="zero", seed=0, command="show")
# found by the 1,700-per-property run: random bytes in the schema's text (UnicodeDecodeError)
@example(offset=0.03125, length=5, fill="random", seed=1, command="search")
@example(offset=0.03125, length=5, fill="random", seed=1, command="runs")
# found by the 1,850-per-property run: a zeroed byte in a stored space name ("nb\x0001")
@example(offset=0.9807099957125638, length=1, fill="zero", seed=0, command="show")
def test_fuzz_damaged_storage_files(offset: float, length: int, fill: str, seed: int,
                                    command: str, small_db: tuple[bytes, str], data_dir: Path,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    import numpy as np

    good, exp_id = small_db
    data = bytearray(good)
    at = int(offset * (len(data) - 1))
    n = min(length, len(data) - at)
    rng = np.random.default_rng(seed)
    data[at:at + n] = (bytes(n) if fill == "zero" else b"\xff" * n if fill == "ff"
                       else rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    db = tmp_path_factory.mktemp("dmg") / "d.db"
    db.write_bytes(bytes(data))
    args = {"runs": ["runs"], "show": ["show", exp_id],
            "search": ["search", "--strategy", "rs", "--budget", "20", "--data-dir",
                       str(data_dir), "--no-progress"]}[command]
    rc, _, err = run_cli(*args, "--storage", str(db))
    assert rc in (0, 2), (command, at, n, fill, rc, err)
    if rc == 2:
        clean_error(rc, err)
        assert str(db) in err or "experiment" in err, err
    if command == "search" and rc == 2 and "checking it before writing" in err:
        assert db.read_bytes() == bytes(data)  # never written after a failed check


@FUZZ
@given(table=st.sampled_from(["trials", "experiments", "checkpoints"]),
       column=st.sampled_from(["metrics", "choices", "info", "config", "meta", "state",
                               "objectives", "front"]),
       value=st.one_of(st.text(max_size=12), st.sampled_from(["[", "{}", "null", "[1,2",
                                                              "\"x\"", "1e999"])))
# found by a longer fuzz run (300 examples per property): valid JSON of the wrong shape
@example(table="trials", column="metrics", value="null")
@example(table="trials", column="info", value="[1]")
@example(table="trials", column="front", value="{}")
@example(table="trials", column="objectives", value="\"x\"")
@example(table="trials", column="choices", value="{}")
# found by the 1,700-per-property run: a checkpoint that is JSON but not naslab's (KeyError)
@example(table="checkpoints", column="state", value="{}")
@example(table="checkpoints", column="state", value="[1]")
def test_fuzz_malformed_rows(table: str, column: str, value: str, small_db: tuple[bytes, str],
                             data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    good, exp_id = small_db
    db = tmp_path_factory.mktemp("rows") / "r.db"
    db.write_bytes(good)
    c = sqlite3.connect(db)
    cols = {r[1] for r in c.execute(f"PRAGMA table_info({table})")}
    if column not in cols:
        c.close()
        return
    c.execute(f"UPDATE {table} SET {column}=?", (value,))
    c.commit()
    c.close()
    for args in (["runs"], ["show", exp_id],
                 ["search", "--strategy", "rs", "--budget", "20", "--data-dir", str(data_dir),
                  "--no-progress"]):
        rc, _, err = run_cli(*args, "--storage", str(db))
        assert rc in (0, 2), (table, column, value, args, rc, err)
        if rc == 2:
            clean_error(rc, err)
