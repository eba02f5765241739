"""A whole simulated stage: many device simulators of every family, started together."""
