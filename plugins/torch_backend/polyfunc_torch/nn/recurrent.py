"""Recurrent layers on traced tensors.

nn.LSTM / nn.GRU / nn.RNN call torch._VF.lstm / gru / rnn_tanh / rnn_relu (and the cells
torch._VF.lstm_cell, ...) with the flat weight list; under a transform these run as an
unrolled loop of matmuls and gates (torch's gate order: LSTM i, f, g, o; GRU r, z, n), so
every transform sees ordinary primitives."""
from __future__ import annotations

import torch

import polyfunc.numpy as pnp
from polyfunc import ops

from ..registry import implements
from .activations import relu


def _lstm_cell(g, h, c):
    i, f, gg, o = pnp.split(g, 4, axis=-1)
    c = pnp.add(pnp.multiply(ops.logistic(f), c), pnp.multiply(ops.logistic(i), pnp.tanh(gg)))
    return pnp.multiply(ops.logistic(o), pnp.tanh(c)), c


def _step(kind, xi, h, c, w_hh, b_hh, w_hr=None):
    """One time step from the projected input ``xi``: the new (h, c) (c is None but for LSTM)."""
    gh = pnp.matmul(h, pnp.transpose(w_hh))
    if b_hh is not None:
        gh = pnp.add(gh, b_hh)
    if kind == "lstm":
        h, c = _lstm_cell(pnp.add(xi, gh), h, c)
        return (h if w_hr is None else pnp.matmul(h, pnp.transpose(w_hr))), c
    if kind == "gru":
        xr, xz, xn = pnp.split(xi, 3, axis=-1)
        hr, hz, hn = pnp.split(gh, 3, axis=-1)
        r, z = ops.logistic(pnp.add(xr, hr)), ops.logistic(pnp.add(xz, hz))
        n = pnp.tanh(pnp.add(xn, pnp.multiply(r, hn)))
        return pnp.add(n, pnp.multiply(z, pnp.subtract(h, n))), None           # (1 - z) n + z h
    a = pnp.add(xi, gh)
    return (pnp.tanh(a) if kind == "rnn_tanh" else relu(a)), None      # torch's relu: gradient 0 at 0


def _cell(kind):
    def f(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        xi = pnp.matmul(input, pnp.transpose(w_ih))
        if b_ih is not None:
            xi = pnp.add(xi, b_ih)
        if kind == "lstm":
            return _step(kind, xi, hx[0], hx[1], w_hh, b_hh)
        return _step(kind, xi, hx, None, w_hh, b_hh)[0]
    f.__name__ = kind + "_cell"
    return f


def _layers(kind, input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    if not isinstance(has_biases, bool):     # the packed overload: (data, batch_sizes, hx, params, ...)
        raise NotImplementedError(f"torch.{kind} on packed sequences is not supported inside polyfunc transforms; "
                                  f"pad the batch instead (torch.nn.utils.rnn.pad_packed_sequence).")
    if dropout and train and num_layers > 1:
        raise NotImplementedError(f"torch.{kind} with dropout between layers in training mode draws random numbers "
                                  f"torch does not route through polyfunc; call .eval() or use dropout=0.")
    lstm = kind == "lstm"
    n_dir = 2 if bidirectional else 1
    per = len(params) // (num_layers * n_dir)       # w_ih, w_hh[, b_ih, b_hh][, w_hr (LSTM projections)]
    h0, c0 = (hx[0], hx[1]) if lstm else (hx, None)
    x = pnp.swapaxes(input, 0, 1) if batch_first else input          # (time, batch, features)
    steps = x.shape[0]
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(n_dir):
            k = layer * n_dir + d
            w = params[k * per:(k + 1) * per]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            w_hr = w[-1] if per in (3, 5) else None
            xi = pnp.matmul(x, pnp.transpose(w[0]))        # the input projection of every step at once
            if b_ih is not None:
                xi = pnp.add(xi, b_ih)
            h, c = h0[k], (c0[k] if lstm else None)
            ys = [None] * steps
            for t in (range(steps) if d == 0 else range(steps - 1, -1, -1)):
                h, c = _step(kind, xi[t], h, c, w[1], b_hh, w_hr)
                ys[t] = h
            outs.append(pnp.stack(ys, axis=0))
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if n_dir == 1 else pnp.concatenate(outs, axis=-1)
    out = pnp.swapaxes(x, 0, 1) if batch_first else x
    if lstm:
        return out, pnp.stack(h_n, axis=0), pnp.stack(c_n, axis=0)
    return out, pnp.stack(h_n, axis=0)


def _layers_of(kind):
    def f(*args):
        return _layers(kind, *args)
    f.__name__ = kind
    return f


lstm = implements(torch.lstm)(_layers_of("lstm"))
gru = implements(torch.gru)(_layers_of("gru"))
rnn_tanh = implements(torch.rnn_tanh)(_layers_of("rnn_tanh"))
rnn_relu = implements(torch.rnn_relu)(_layers_of("rnn_relu"))
lstm_cell = implements(torch.lstm_cell)(_cell("lstm"))
gru_cell = implements(torch.gru_cell)(_cell("gru"))
rnn_tanh_cell = implements(torch.rnn_tanh_cell)(_cell("rnn_tanh"))
rnn_relu_cell = implements(torch.rnn_relu_cell)(_cell("rnn_relu"))
