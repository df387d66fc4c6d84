"""torch code under polyfunc behaves as under torch.func: grad-mode contexts and custom
``torch.autograd.Function`` rules, each checked against torch.func on the same function."""
import pytest

torch = pytest.importorskip("torch")

import polyfunc as pf  # noqa: E402

X = torch.tensor([0.3, -1.2, 1.5], dtype=torch.float64)
T = torch.tensor([1.0, 0.5, -2.0], dtype=torch.float64)


def both(make):
    """``make(transforms_module)`` evaluated with torch.func and with polyfunc."""
    return make(torch.func), make(pf)


def close(a, b):
    torch.testing.assert_close(a, b)


# ------------------------------------------------------------------ grad modes
def _under(ctx_factory):
    def f(x):
        y = x ** 2
        with ctx_factory():
            z = torch.sin(x) * x ** 2
        return (y - z).sum()
    return f


def _set_false():
    return torch.set_grad_enabled(False)


@pytest.mark.parametrize("ctx", [torch.no_grad, torch.inference_mode, _set_false], ids=["no_grad", "inference", "set"])
@pytest.mark.parametrize("transform", ["grad", "vjp", "jacrev", "hessian"])
def test_grad_mode_region_is_constant_to_reverse_mode(ctx, transform):
    f = _under(ctx)

    def run(m):
        if transform == "vjp":
            out, fn = m.vjp(f, X)
            return out, fn(torch.tensor(1.0, dtype=torch.float64))[0]
        return getattr(m, transform)(f)(X)
    close(*both(run))


def test_issue_example_and_plain_function():
    def f(x):
        y = x ** 2
        with torch.no_grad():
            z = x ** 2
        return y - z
    x = torch.tensor(1.5)
    assert float(pf.grad(f)(x)) == float(torch.func.grad(f)(x)) == 3.0


def test_forward_mode_ignores_grad_mode_as_torch_forward_ad():
    f = _under(torch.no_grad)
    close(*both(lambda m: m.jvp(f, (X,), (T,))))
    close(*both(lambda m: m.jacfwd(f)(X)))


def test_transform_under_outer_no_grad_still_differentiates():
    f = _under(torch.enable_grad)
    with torch.no_grad():
        close(*both(lambda m: m.grad(f)(X)))
        close(*both(lambda m: m.grad(lambda x: (x.sin() * x).sum())(X)))
    assert torch.is_grad_enabled()


def test_enable_grad_inside_no_grad_reopens_the_region():
    def f(x):
        with torch.no_grad():
            a = x * 3
            with torch.enable_grad():
                b = x ** 3
            torch.set_grad_enabled(True)
            c = x.exp()
            torch.set_grad_enabled(False)
        return (a + b + c).sum()
    close(*both(lambda m: m.grad(f)(X)))


def test_level_aware_nesting():
    # a grad entered inside the outer function's no_grad differentiates its own function;
    # the outer grad sees the whole region as a constant
    def h(m):
        def f(x):
            with torch.no_grad():
                g = m.grad(lambda y: (x * y * y).sum())(x)
            return (g * x + x ** 3).sum()
        return m.grad(f)(X)
    close(*both(h))

    # no_grad inside the inner function stops the inner and the outer level
    def k(m):
        def f(x):
            def inner(y):
                with torch.no_grad():
                    c = (x * y).sin()
                return (c * y + y * x).sum()
            return (m.grad(inner)(x) * x).sum()
        return m.grad(f)(X)
    close(*both(k))

    # second derivative through a region constant to the outer level only
    def hess(m):
        return m.grad(lambda x: m.grad(_under(torch.no_grad))(x).sum())(X)
    close(*both(hess))


def test_grad_mode_with_vmap():
    f = _under(torch.no_grad)
    xs = torch.stack([X, 2 * X])
    close(*both(lambda m: m.vmap(m.grad(f))(xs)))
    close(*both(lambda m: m.grad(lambda x: m.vmap(f)(x).sum())(xs)))


def test_grad_mode_restored_after_errors():
    def bad(x):
        raise ValueError("boom")
    with torch.no_grad():
        with pytest.raises(ValueError):
            pf.grad(bad)(X)
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


# ------------------------------------------------------------------ autograd.Function
class StraightThrough(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return torch.round(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        return g


class MyExp(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return x.exp()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out

    @staticmethod
    def jvp(ctx, t):
        (out,) = ctx.saved_tensors
        return t * out


class ScaledCube(torch.autograd.Function):
    """Two inputs, one of them a Python number; a tensor attribute and a plain one on ctx."""
    generate_vmap_rule = True

    @staticmethod
    def forward(x, k):
        return k * x ** 3

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, k = inputs
        ctx.x = x
        ctx.k = k

    @staticmethod
    def backward(ctx, g):
        return g * 3 * ctx.k * ctx.x ** 2, None


class MulPair(torch.autograd.Function):
    """Two tensor inputs, two outputs, one marked non-differentiable."""
    generate_vmap_rule = True

    @staticmethod
    def forward(x, y):
        return x * y, (x > 0).to(x.dtype) * 2.0

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)
        ctx.mark_non_differentiable(output[1])

    @staticmethod
    def backward(ctx, g, g_mask):
        x, y = ctx.saved_tensors
        return g * y, g * x


class ForwardOnly(torch.autograd.Function):
    @staticmethod
    def forward(x):
        return x.sin()

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return 2.0 * t * x.cos()      # deliberately not the true derivative: the rule must be used


class OldStyle(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_straight_through_estimator_uses_backward():
    f = lambda x: StraightThrough.apply(x).sum()   # noqa: E731
    close(*both(lambda m: m.grad(f)(X)))
    assert torch.equal(pf.grad(f)(X), torch.ones_like(X))


def test_function_with_saved_output_all_transforms():
    f = lambda x: MyExp.apply(x)   # noqa: E731
    close(*both(lambda m: m.grad(lambda x: f(x).sum())(X)))
    close(*both(lambda m: m.vjp(f, X)[1](T)))
    close(*both(lambda m: m.jacrev(f)(X)))
    close(*both(lambda m: m.vmap(f)(torch.stack([X, T]))))
    close(*both(lambda m: m.vmap(m.grad(lambda x: f(x).sum()))(torch.stack([X, T]))))


def test_function_with_static_argument_and_ctx_attributes():
    f = lambda x: ScaledCube.apply(x, 2.5).sum()   # noqa: E731
    close(*both(lambda m: m.grad(f)(X)))
    close(*both(lambda m: m.vmap(m.grad(f))(torch.stack([X, T]))))
    close(*both(lambda m: m.grad(lambda x: m.grad(f)(x).sum())(X)))


def test_non_differentiable_output_and_two_inputs():
    def f(x, y):
        a, mask = MulPair.apply(x, y)
        return (a + mask * x).sum()
    close(*both(lambda m: m.grad(f, argnums=(0, 1))(X, T)))
    close(*both(lambda m: m.vmap(m.grad(f, argnums=(0, 1)))(torch.stack([X, T]), torch.stack([T, X]))))


def test_jvp_staticmethod_is_the_forward_rule():
    f = lambda x: ForwardOnly.apply(x)   # noqa: E731
    close(*both(lambda m: m.jvp(f, (X,), (T,))))
    assert torch.allclose(pf.jvp(f, (X,), (T,))[1], 2.0 * T * X.cos())


def test_function_outside_transforms_is_torch_own():
    x = X.clone().requires_grad_()
    MyExp.apply(x).sum().backward()
    close(x.grad, X.exp())


def test_old_style_function_refused_like_torch_func():
    with pytest.raises(RuntimeError, match="setup_context"):
        torch.func.grad(lambda x: OldStyle.apply(x).sum())(X)
    with pytest.raises(RuntimeError, match="setup_context"):
        pf.grad(lambda x: OldStyle.apply(x).sum())(X)


def test_vmap_without_rule_refused_like_torch_func():
    with pytest.raises(RuntimeError, match="generate_vmap_rule"):
        torch.func.vmap(StraightThrough.apply)(torch.stack([X, T]))
    # (a lambda: ``StraightThrough.apply`` looked up before vmap runs is torch's own, unrouted, method)
    with pytest.raises(RuntimeError, match="generate_vmap_rule"):
        pf.vmap(lambda x: StraightThrough.apply(x))(torch.stack([X, T]))
