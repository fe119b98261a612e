"""optviz.rounding: a compiled program rounds every product as eager, op-by-op JAX (Keras's
way of stepping) does, through conds and loops, whatever the CPU's FMA."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optviz.rounding import keras_rounded_jit

RNG = np.random.default_rng(0)
A, B, C, D = (RNG.standard_normal(4096).astype(np.float32) for _ in range(4))


def _eager(a, b, c, d):
    return np.asarray(jnp.subtract(jnp.multiply(a, b), jnp.multiply(c, d)))


def test_products_are_rounded_before_the_subtraction():
    @keras_rounded_jit
    def program(a, b, c, d, n_steps):
        return a * b - c * d

    np.testing.assert_array_equal(np.asarray(program(A, B, C, D, 1)), _eager(A, B, C, D))


def test_loops_and_conds_are_rewritten_too():
    steps = 200

    def step(m, g):
        m = m * 0.9 - g * 0.1
        return m, g * 0.99 + m * 0.01

    @keras_rounded_jit
    def program(m, g, n_steps):
        def body(i, carry):
            m, g = step(*carry)
            # A cond inside the loop: its branches are rewritten as well.
            m = jax.lax.cond(i % 2 == 0, lambda m: m * 1.0 + g * 0.0, lambda m: m, m)
            return m, g
        return jax.lax.fori_loop(0, n_steps, body, (m, g))[0]

    m, g = jnp.asarray(A), jnp.asarray(B)
    for i in range(steps):  # op by op, as Keras steps a variable
        m, g = step(m, g)
        if i % 2 == 0:
            m = jnp.add(jnp.multiply(m, 1.0), jnp.multiply(g, 0.0))
    np.testing.assert_array_equal(np.asarray(program(A, B, steps)), np.asarray(m))


def test_the_zero_needs_a_step_count_argument():
    with pytest.raises(ValueError):
        keras_rounded_jit(lambda a, b: a * b)
