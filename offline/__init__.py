"""Stand-ins for what lies outside the system, for the demo and the tests (never shipped in an image)."""
