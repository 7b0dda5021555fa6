"""web subpackage of geo."""
