"""``naslab latency measure | build-lut | validate | predict``: inference latency on this machine
and latency lookup tables (the measurement code is :mod:`naslab.nn.latency` / :mod:`naslab.nn.lut`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from naslab.cli.main import _err_console, app, parse_params
from naslab.errors import ConfigError
from naslab.spaces import DEFAULT_SPACE

latency_app = typer.Typer(
    name="latency", help="Inference latency on this machine: measure a network, build and "
                         "validate latency lookup tables.",
    no_args_is_help=True, add_completion=False)
app.add_typer(latency_app, name="latency")

PROTOCOL_HELP = "Network option KEY=VALUE of the space's latency model (repeatable)."


def _protocol(C: Optional[int], N: Optional[int], image_size: Optional[int],
              num_classes: Optional[int], in_channels: Optional[int],
              sets: Optional[list[str]]) -> dict[str, Any]:
    """The latency model's options: the flags given (None = the model's default) + --set."""
    out = {k: v for k, v in (("C", C), ("N", N), ("image_size", image_size),
                             ("num_classes", num_classes), ("in_channels", in_channels))
           if v is not None}
    for k, v in parse_params(sets, "--set").items():
        if k in out:
            raise ConfigError(f"--set {k}=... repeats the option --{k.replace('_', '-')}")
        out[k] = v
    return out


def _arch(space: str, text: str) -> Any:
    from naslab.spaces.base import get_space

    sp = get_space(space)
    t = text.strip()
    if t.isdigit():
        try:
            return sp.from_index(int(t))
        except (IndexError, TypeError, ValueError) as exc:
            raise ConfigError(f"--arch {t}: not an index of space {space!r} ({exc})") from None
    return sp.parse(t)


def _check_output(output: str) -> None:
    if output not in ("text", "json"):
        raise ConfigError(f"--output must be 'text' or 'json', got {output!r}")


def _space(space: Optional[str]) -> str:
    from naslab import registry

    return str(registry.get("space", space or DEFAULT_SPACE).name)


@latency_app.command()
def measure(
    arch: str = typer.Option(..., help="Arch string or index in the space."),
    space: Optional[str] = typer.Option(None, help="Search space (default: naslab.spaces.DEFAULT_SPACE)."),
    batch: int = typer.Option(1, help="Batch size."),
    threads: int = typer.Option(1, help="torch (or onnxruntime) intra-op threads."),
    backend: str = typer.Option("torch", help="torch | onnxruntime (pip install 'naslab[onnx]')."),
    clock: str = typer.Option("wall", help="wall (perf_counter) | cpu (the thread's CPU time: "
                                           "robust to other processes on a shared core; 1 thread)."),
    repeats: int = typer.Option(100, help="At least this many samples."),
    max_repeats: int = typer.Option(2000, help="At most this many samples."),
    max_time_s: float = typer.Option(5.0, help="Stop sampling after this many seconds once "
                                               "--repeats samples are in."),
    warmup_s: float = typer.Option(0.5, help="Warm-up seconds before sampling."),
    confidence: float = typer.Option(0.95, help="Confidence level of the median's interval."),
    C: Optional[int] = typer.Option(None, "--C", help="Network width (space default)."),
    N: Optional[int] = typer.Option(None, "--N", help="Cells per stage (space default)."),
    image_size: Optional[int] = typer.Option(None, help="Input height = width (space default)."),
    num_classes: Optional[int] = typer.Option(None, help="Classifier outputs (space default)."),
    in_channels: Optional[int] = typer.Option(None, help="Image channels (space default)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", "-s", help=PROTOCOL_HELP),
    seed: int = typer.Option(0, help="Seed of the weights and the input."),
    output: str = typer.Option("text", help="text | json"),
) -> None:
    """Measure the inference latency of an architecture's network on this machine: median with
    a confidence interval, the noise (IQR/median, CV) and the device fingerprint."""
    _check_output(output)
    sp = _space(space)
    a = _arch(sp, arch)
    from naslab.nn.latency_parts import latency_model

    model = latency_model(sp, **_protocol(C, N, image_size, num_classes, in_channels, set_))
    import torch

    from naslab.nn.latency import measure_latency
    from naslab.nn.networks import build_network

    net = build_network(a, generator=torch.Generator().manual_seed(seed), **model.network_protocol())
    r = measure_latency(net, model.input_shape(), batch=batch, threads=threads, backend=backend,
                        clock=clock, min_repeats=repeats, max_repeats=max_repeats,
                        max_time_s=max_time_s, warmup_s=warmup_s, confidence=confidence,
                        seed=seed)
    d = {"arch": str(a), "space": sp, "protocol": model.protocol, **r.to_json()}
    if output == "json":
        typer.echo(json.dumps(d))
        return
    lo, hi = r.ci_ms
    fp = r.fingerprint
    for line in (
        f"arch           {a}",
        f"latency        {r.median_ms:.4f} ms median  ({r.confidence:.0%} CI {lo:.4f} - {hi:.4f})",
        f"noise          IQR/median {r.iqr_rel * 100:.1f} %, CV {r.cv * 100:.1f} %, min "
        f"{r.min_ms:.4f} ms, p10 {r.p10_ms:.4f} ms",
        f"samples        {r.n} x {r.number} call(s), {r.wall_s:.1f} s",
        f"protocol       {sp} {model.protocol}, batch {r.batch}, {r.threads} thread(s), "
        f"{r.backend}, clock {r.clock}",
        f"device         {fp['cpu_model']} ({fp['cpu_count']} cores, {fp['cpus_allowed']} allowed), "
        f"{fp['machine']} {fp['system']}, torch {fp['torch']}, naslab {fp['naslab']}",
    ):
        typer.echo(line)


@latency_app.command("build-lut")
def build_lut_cmd(
    out: Path = typer.Option(..., help="LUT file to write (JSON)."),
    space: Optional[str] = typer.Option(None, help="Search space (default: naslab.spaces.DEFAULT_SPACE)."),
    batch: int = typer.Option(1, help="Batch size."),
    threads: int = typer.Option(1, help="torch (or onnxruntime) intra-op threads."),
    backend: str = typer.Option("torch", help="torch | onnxruntime."),
    clock: str = typer.Option("wall", help="wall | cpu (see `naslab latency measure --help`)."),
    statistic: str = typer.Option("median", help="Entry value: median | p10 | min | mean of the samples."),
    rounds: int = typer.Option(20, help="Interleaved rounds (each visits every kernel once)."),
    samples: int = typer.Option(5, help="Samples per kernel per round."),
    calibration_archs: int = typer.Option(
        10, help="Random archs measured as whole networks to estimate what the kernels miss "
                 "(the overhead); 0: none."),
    C: Optional[int] = typer.Option(None, "--C", help="Network width (space default)."),
    N: Optional[int] = typer.Option(None, "--N", help="Cells per stage (space default)."),
    image_size: Optional[int] = typer.Option(None, help="Input height = width (space default)."),
    num_classes: Optional[int] = typer.Option(None, help="Classifier outputs (space default)."),
    in_channels: Optional[int] = typer.Option(None, help="Image channels (space default)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", "-s", help=PROTOCOL_HELP),
    seed: int = typer.Option(0, help="Seed of the visiting order, weights and inputs."),
    output: str = typer.Option("text", help="text | json (the summary)"),
) -> None:
    """Measure every kernel the space's networks can run (op x input shape x stride, plus the
    skeleton: stem, reductions, head, sum nodes) and write a versioned LUT with this device's
    fingerprint. Predicted latency = the arch's kernels + the fixed part."""
    _check_output(output)
    sp = _space(space)
    protocol = _protocol(C, N, image_size, num_classes, in_channels, set_)
    from naslab.nn.latency_parts import latency_model

    latency_model(sp, **protocol)  # bad options fail before anything is measured
    from naslab.nn.lut import build_lut

    def on_round(r: int, elapsed: float) -> None:
        if output == "text":
            _err_console().print(f"round {r + 1}/{rounds}  {elapsed:.1f} s", highlight=False)

    lut = build_lut(sp, batch=batch, threads=threads, backend=backend, clock=clock,
                    statistic=statistic, rounds=rounds, samples_per_round=samples,
                    calibration_archs=calibration_archs, seed=seed, on_round=on_round, **protocol)
    path = lut.save(out)
    d = {"lut": str(path), "space": sp, "protocol": lut.protocol, "kernels": len(lut.entries),
         "fixed_ms": lut.fixed_ms(overhead=False), "overhead_ms": lut.overhead_ms,
         "build": lut.build, "calibration": lut.calibration}
    if output == "json":
        typer.echo(json.dumps(d))
        return
    b = lut.build
    typer.echo(f"wrote          {path}")
    typer.echo(f"kernels        {len(lut.entries)} ({sp} {lut.protocol}, batch {batch}, "
               f"{threads} thread(s), {backend}, clock {clock}, {statistic})")
    typer.echo(f"fixed part     {lut.fixed_ms(overhead=False):.4f} ms kernels + "
               f"{lut.overhead_ms:.4f} ms calibrated overhead "
               f"({len(lut.calibration)} calibration archs)")
    typer.echo(f"noise          median IQR/median of a kernel {b['median_iqr_rel'] * 100:.1f} %")
    typer.echo(f"build time     {b['wall_s']:.1f} s ({rounds} rounds x {samples} samples)")


def _load_lut(path: Path, force: bool) -> Any:
    from naslab.nn.lut import LatencyLUT

    return LatencyLUT.load(path, force=force)


@latency_app.command()
def validate(
    lut: Path = typer.Option(..., help="LUT file (from `naslab latency build-lut`)."),
    archs: int = typer.Option(50, help="Random architectures to measure."),
    seed: int = typer.Option(0, help="Seed of the architectures and the measurement order."),
    rounds: int = typer.Option(10, help="Interleaved rounds (split into two passes: each arch "
                                        "is measured twice)."),
    samples: int = typer.Option(3, help="Samples per arch per round."),
    plot: Optional[Path] = typer.Option(None, help="Write the scatter figure (PNG/PDF/SVG)."),
    force: bool = typer.Option(False, help="Use a LUT built on another device or naslab version."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write every arch's figures (JSON)."),
    output: str = typer.Option("text", help="text | json"),
) -> None:
    """LUT predictions against direct measurement on random archs: MAPE, Spearman, max error,
    beside the measurement's own repeatability (each arch measured twice)."""
    _check_output(output)
    from naslab.nn.lut import validate_lut

    table = _load_lut(lut, force)

    def on_round(r: int, elapsed: float) -> None:
        if output == "text":
            _err_console().print(f"round {r + 1}/{rounds}  {elapsed:.1f} s", highlight=False)

    v = validate_lut(table, archs=archs, seed=seed, rounds=rounds, samples_per_round=samples,
                     on_round=on_round)
    if plot is not None:
        v.plot(plot)
    d = v.to_json()
    if json_out is not None:
        try:
            json_out.write_text(json.dumps(d) + "\n")
        except OSError as exc:
            raise ConfigError(f"cannot write --json {str(json_out)!r}: {exc}") from None
    if output == "json":
        typer.echo(json.dumps({k: d[k] for k in ("lut", "lut_kernels_only", "repeatability",
                                                  "noise_iqr_rel", "wall_s", "meta")}))
        return
    if table.forced:
        _err_console().print(f"warning: LUT used with --force despite: {'; '.join(table.forced)}",
                             highlight=False)
    typer.echo(v.summary())
    if plot is not None:
        typer.echo(f"figure         {plot}")


@latency_app.command()
def predict(
    arch: str = typer.Option(..., help="Arch string or index in the LUT's space."),
    lut: Path = typer.Option(..., help="LUT file."),
    force: bool = typer.Option(False, help="Use a LUT built on another device or naslab version."),
    output: str = typer.Option("text", help="text | json"),
) -> None:
    """Predicted latency of an architecture from a LUT, with the per-kernel breakdown."""
    _check_output(output)
    table = _load_lut(lut, force)
    a = _arch(table.space, arch)
    ms = table.predict(a)
    parts = table.breakdown(a)
    if output == "json":
        typer.echo(json.dumps({"arch": str(a), "latency_ms": ms, "breakdown_ms": parts,
                               "forced": table.forced}))
        return
    typer.echo(f"arch           {a}")
    typer.echo(f"latency        {ms:.4f} ms (LUT {lut})")
    for k, v in sorted(parts.items(), key=lambda kv: -kv[1]):
        typer.echo(f"  {k:36s} {v:.4f}")
