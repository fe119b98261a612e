"""Keras's rounding inside one compiled program: every product rounded to float32.

Keras steps a variable with one eager XLA call per operation, so in ``a*b - c*d`` each
product is rounded before the subtraction. In one jitted program, LLVM on a CPU with FMA
contracts that into ``fma(a, b, -c*d)`` (XLA turns FP contraction on and offers no
per-program switch): a one-ulp difference that a chaotic path grows into a visibly
different one. :func:`keras_rounding` re-emits a function's operations as they are, but
passes each float32 product through an integer XOR with a zero the compiler cannot see
is zero, which it must round first. That keeps the compiled steps bit-for-bit Keras's in
any process, whatever ISA JAX was started with, and touches nothing outside optviz.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.extend import core

# The primitives whose result LLVM may fuse into a following add or subtract.
_PRODUCTS = frozenset({"mul", "integer_pow", "square", "dot_general"})
# Call-like primitives whose body is inlined (jnp functions are small jits).
_CALL_JAXPR = {"pjit": "jaxpr", "jit": "jaxpr", "closed_call": "call_jaxpr", "core_call": "call_jaxpr",
               "custom_jvp_call": "call_jaxpr", "custom_vjp_call": "call_jaxpr", "remat": "jaxpr",
               "checkpoint": "jaxpr"}


def opaque_zero(value) -> jax.Array:
    """An int32 zero computed from ``value``, a traced int32 known to be >= 0 at run time
    only (a step count): the compiler cannot fold ``x ^ opaque_zero`` away."""
    return jnp.minimum(jnp.asarray(value, jnp.int32), 0)


def _round(x, zero):
    if x.dtype != jnp.float32:
        return x
    bits = jax.lax.bitcast_convert_type(x, jnp.int32)
    return jax.lax.bitcast_convert_type(bits ^ zero, jnp.float32)


def _eval(jaxpr, consts, args, zero):
    env = {}

    def read(var):
        return var.val if isinstance(var, core.Literal) else env[var]

    for var, value in zip(jaxpr.constvars, consts):
        env[var] = value
    for var, value in zip(jaxpr.invars, args):
        env[var] = value
    for eqn in jaxpr.eqns:
        invals = [read(v) for v in eqn.invars]
        name = eqn.primitive.name
        if name in _CALL_JAXPR and _CALL_JAXPR[name] in eqn.params:
            inner = eqn.params[_CALL_JAXPR[name]]
            inner_jaxpr, inner_consts = (inner.jaxpr, inner.consts) if hasattr(inner, "consts") else (inner, ())
            outvals = _eval(inner_jaxpr, inner_consts, invals, zero)
        elif name == "cond":
            # Each branch re-emitted with its products rounded (lax.switch takes the closure).
            branches = [functools.partial(_eval_closed, branch, zero=zero) for branch in eqn.params["branches"]]
            outvals = jax.lax.switch(invals[0], branches, *invals[1:])
        elif name == "scan":
            outvals = _scan(eqn.params, invals, zero)
        elif name == "while":
            outvals = _while(eqn.params, invals, zero)
        else:
            if any(isinstance(p, (core.Jaxpr, core.ClosedJaxpr)) for p in eqn.params.values()):
                raise NotImplementedError(f"keras_rounding: {name} inside a rounded function")
            outvals = eqn.primitive.bind(*invals, **eqn.primitive.get_bind_params(eqn.params))
            if not eqn.primitive.multiple_results:
                outvals = [outvals]
            if name in _PRODUCTS:
                outvals = [_round(v, zero) for v in outvals]
        for var, value in zip(eqn.outvars, outvals):
            env[var] = value
    return [read(v) for v in jaxpr.outvars]


def _scan(params, invals, zero):
    n_consts, n_carry, body = params["num_consts"], params["num_carry"], params["jaxpr"]
    consts, init, xs = invals[:n_consts], invals[n_consts:n_consts + n_carry], invals[n_consts + n_carry:]

    def step(carry, x):
        out = _eval_closed(body, *consts, *carry, *x, zero=zero)
        return out[:n_carry], out[n_carry:]

    carry, ys = jax.lax.scan(step, list(init), list(xs), length=params["length"], reverse=params["reverse"],
                             unroll=params["unroll"])
    return [*carry, *ys]


def _while(params, invals, zero):
    n_cond, n_body = params["cond_nconsts"], params["body_nconsts"]
    cond_consts, body_consts, init = invals[:n_cond], invals[n_cond:n_cond + n_body], invals[n_cond + n_body:]
    return jax.lax.while_loop(
        lambda carry: _eval_closed(params["cond_jaxpr"], *cond_consts, *carry, zero=zero)[0],
        lambda carry: _eval_closed(params["body_jaxpr"], *body_consts, *carry, zero=zero),
        list(init))


def _eval_closed(closed, *args, zero):
    return _eval(closed.jaxpr, closed.consts, args, zero)


def keras_rounding(fn, zero):
    """``fn`` (pure; its loops and conds are rewritten too) with every float32 product
    rounded as Keras's eager operations round it; ``zero`` from :func:`opaque_zero`. Same
    results on a CPU without FMA; call it inside the jitted program, where ``zero`` is traced."""

    def rounded(*args):
        closed, shape = jax.make_jaxpr(fn, return_shape=True)(*args)
        flat = jax.tree_util.tree_leaves(args)
        out = _eval(closed.jaxpr, closed.consts, flat, zero)
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(shape), out)

    return rounded


def keras_rounded_jit(fn):
    """``jax.jit(fn)``, every float32 product in it rounded as Keras rounds it (see
    :func:`keras_rounding`). ``fn``'s argument ``n_steps`` (a step count, >= 0) gives the
    zero the compiler cannot see through."""
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    where = names.index("n_steps")

    @functools.wraps(fn)
    def program(*args):
        return keras_rounding(fn, opaque_zero(args[where]))(*args)

    return jax.jit(program)
