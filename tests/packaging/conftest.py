"""The package as a wheel: what it carries, and that an installed copy runs without the checkout."""
