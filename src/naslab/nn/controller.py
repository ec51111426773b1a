"""ENAS's LSTM controller over a space's declared decisions (Pham et al. 2018; imports torch).

:class:`ArchController` samples an architecture decision by decision, in the order of
``space.decisions``: a stack of LSTM cells reads a learned start vector, then the embedding of
each choice made; after step ``d`` a linear head gives the logits of decision ``d``'s options,
shaped as ENAS does (``tanh_constant * tanh(logits / temperature)``). ``sample`` returns the
option indices, the summed log-probability and the summed entropy (both differentiable, for
REINFORCE); ``greedy`` the argmax path. Draws come from a CPU ``torch.Generator`` (the
controller is tiny and lives on the CPU whatever device the supernet uses).

Defaults are NAS-Bench-201's ENAS settings (lstm_size 32, 2 layers, temperature 5,
tanh_constant 2.5); parameters are initialised ``U(-0.1, 0.1)`` as in ENAS. Built on the meta
device and initialised from a generator, so construction never touches torch's global RNG.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from naslab.errors import check_float, check_int

__all__ = ["ArchController", "build_controller"]


class ArchController(nn.Module):
    """An LSTM policy over categorical decisions of sizes ``sizes``."""

    def __init__(self, sizes: Sequence[int], *, lstm_size: int = 32, lstm_layers: int = 2,
                 temperature: float = 5.0, tanh_constant: float = 2.5) -> None:
        super().__init__()
        self.sizes = [check_int("decision size", s, minimum=1) for s in sizes]
        self.lstm_size = check_int("lstm_size", lstm_size, minimum=1)
        self.lstm_layers = check_int("lstm_layers", lstm_layers, minimum=1)
        self.temperature = check_float("temperature", temperature, minimum=0.0, strict_min=True)
        self.tanh_constant = check_float("tanh_constant", tanh_constant, minimum=0.0,
                                         strict_min=True)
        h = self.lstm_size
        self.start = nn.Parameter(torch.empty(1, h))
        self.cells = nn.ModuleList([nn.LSTMCell(h, h) for _ in range(self.lstm_layers)])
        self.embeddings = nn.ModuleList([nn.Embedding(s, h) for s in self.sizes])
        self.heads = nn.ModuleList([nn.Linear(h, s) for s in self.sizes])

    def reset_parameters_from(self, generator: torch.Generator | None) -> None:
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-0.1, 0.1, generator=generator)

    def _logits(self, h: torch.Tensor, d: int) -> torch.Tensor:
        logits: torch.Tensor = self.heads[d](h).squeeze(0) / self.temperature
        return self.tanh_constant * torch.tanh(logits)

    def _step(self, x: torch.Tensor, state: list[tuple[torch.Tensor, torch.Tensor]]
              ) -> torch.Tensor:
        for i, cell in enumerate(self.cells):
            state[i] = cell(x, state[i])
            x = state[i][0]
        return x

    def _run(self, generator: torch.Generator | None, greedy: bool
             ) -> tuple[list[int], torch.Tensor, torch.Tensor]:
        zero = torch.zeros(1, self.lstm_size, device=self.start.device)
        state = [(zero, zero) for _ in self.cells]
        x = self.start
        choices: list[int] = []
        log_prob = torch.zeros((), device=self.start.device)
        entropy = torch.zeros((), device=self.start.device)
        for d in range(len(self.sizes)):
            h = self._step(x, state)
            logits = self._logits(h, d)
            logp = torch.log_softmax(logits, dim=-1)
            if greedy:
                k = int(logits.argmax())
            else:
                k = int(torch.multinomial(logp.detach().exp().cpu(), 1, generator=generator))
            choices.append(k)
            log_prob = log_prob + logp[k]
            entropy = entropy - (logp.exp() * logp).sum()
            x = self.embeddings[d](torch.tensor([k], device=self.start.device))
        return choices, log_prob, entropy

    def sample(self, generator: torch.Generator) -> tuple[list[int], torch.Tensor, torch.Tensor]:
        """(option index per decision, log-probability, entropy) of one sampled path."""
        return self._run(generator, False)

    def greedy(self) -> list[int]:
        """The most likely option of every decision, each step conditioned on the previous."""
        with torch.no_grad():
            return self._run(None, True)[0]

    def probabilities(self) -> list[list[float]]:
        """Per decision, the option probabilities along the greedy path (diagnostics)."""
        out = []
        with torch.no_grad():
            zero = torch.zeros(1, self.lstm_size, device=self.start.device)
            state = [(zero, zero) for _ in self.cells]
            x = self.start
            for d in range(len(self.sizes)):
                h = self._step(x, state)
                p = torch.softmax(self._logits(h, d), dim=-1)
                out.append([round(float(v), 6) for v in p])
                x = self.embeddings[d](p.argmax().view(1))
        return out


def build_controller(sizes: Sequence[int], *, generator: torch.Generator, lstm_size: int = 32,
                     lstm_layers: int = 2, temperature: float = 5.0,
                     tanh_constant: float = 2.5) -> ArchController:
    """An :class:`ArchController` on the CPU, every parameter drawn ``U(-0.1, 0.1)`` from
    ``generator`` (torch's global RNG untouched)."""
    with torch.device("meta"):
        ctrl = ArchController(sizes, lstm_size=lstm_size, lstm_layers=lstm_layers,
                              temperature=temperature, tanh_constant=tanh_constant)
    ctrl = ctrl.to_empty(device="cpu")
    ctrl.reset_parameters_from(generator)
    return ctrl
