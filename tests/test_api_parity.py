"""Small API behaviours a torch.func or JAX user relies on, checked against torch.func itself."""
import pytest
import torch
import torch.func as tf

import polyfunc as pf
import polyfunc.numpy as pnp


def scaled_norm(x):
    """The documented function."""
    return (x ** 2).sum()


@pytest.mark.parametrize("transform", ["grad", "grad_and_value", "vmap", "jacrev", "jacfwd", "hessian"])
def test_transformed_function_keeps_name_and_doc(transform):
    ours = getattr(pf, transform)(scaled_norm)
    theirs = getattr(tf, transform)(scaled_norm)
    assert ours.__name__ == theirs.__name__ == "scaled_norm"
    assert ours.__doc__ == "The documented function."
    assert ours.__wrapped__ is scaled_norm


def test_single_output_with_one_element_out_dims():
    x = torch.arange(6.0).reshape(3, 2)
    ours = pf.vmap(lambda v: v * 2, out_dims=(1,))(x)
    torch.testing.assert_close(ours, tf.vmap(lambda v: v * 2, out_dims=(1,))(x))
    assert ours.shape == (2, 3)


def test_unbatched_python_object_with_out_dims_none():
    x = torch.arange(6.0).reshape(3, 2)
    ours = pf.vmap(lambda v: (v * 2, "tag", 3), out_dims=(0, None, None))(x)
    theirs = tf.vmap(lambda v: (v * 2, "tag", 3), out_dims=(0, None, None))(x)
    torch.testing.assert_close(ours[0], theirs[0])
    assert ours[1:] == theirs[1:] == ("tag", 3)


def test_batched_output_with_out_dims_none_still_refused():
    with pytest.raises(pf.TransformError, match="out_dims=None"):
        pf.vmap(lambda v: v * 2, out_dims=None)(pnp.ones((3, 2)))
