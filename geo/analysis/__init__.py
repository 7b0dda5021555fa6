"""analysis subpackage of geo."""
