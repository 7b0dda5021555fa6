"""data subpackage of geo."""
