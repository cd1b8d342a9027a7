"""Step families. Each module declares its steps with ``registry.step``."""
